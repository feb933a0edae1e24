"""Small, tested changes to Rasa 3.6's behaviour, applied when the server starts (never by editing
installed files). Each patch keeps Rasa's contract and only removes waste.

``action_validation``: Rasa validates every action server response against its response schema
with ``jsonschema.validate``, which checks the schema itself and builds a new validator on each
call (about 35 ms of CPU here, twice per form turn). The schema never changes, so the validator is
built and its schema checked once; each response is still validated in full, and an invalid one
still raises the same ``ValidationError`` with Rasa's own hint appended.

``without_jax``: TensorFlow's TF Lite converter imports jax whenever it is installed (it is, in
Rasa's environment, as a dependency of a dependency): about 100 MB resident and a second of start
for a converter Rasa never calls. Marking jax absent before Rasa is imported makes that import
fail the way TensorFlow expects (``ImportError``, handled there). Applied before anything imports
Rasa; a no-op if jax was imported already.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any

APPLIED: list[str] = []


@cache
def _response_validator() -> Any:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def action_validation() -> None:
    from jsonschema import ValidationError
    from rasa.core.actions import action
    from rasa.shared.constants import DOCS_BASE_URL

    def _validate_action_result(self: action.RemoteAction, result: dict[str, Any]) -> bool:
        try:
            _response_validator().validate(result)
            return True
        except ValidationError as e:
            e.message += (
                f". Failed to validate Action server response from API, "
                f"make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise e

    action.RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    APPLIED.append("action_validation")


def without_jax() -> None:
    sys.modules.setdefault("jax", None)  # type: ignore[arg-type]  # None: "not installed"
    APPLIED.append("without_jax")


def apply() -> list[str]:
    """Apply every patch once; returns the names applied (idempotent)."""
    if not APPLIED:
        without_jax()  # first: the next one imports Rasa, hence TensorFlow
        action_validation()
    return list(APPLIED)
