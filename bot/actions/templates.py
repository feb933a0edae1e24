"""Chinese phrases that actions assemble into longer texts (lists, summaries, details).

Whole messages are responses in ``bot/domain/<feature>.yml``, uttered with
``dispatcher.utter_message(response="utter_…", **variables)``. When a variable is itself built
from parts (one line per detail, per open case), the parts come from ``bot/templates/<feature>.yml``
beside the domain, so that no user-facing copy lives in Python. Read once, on first use.
"""

from functools import cache
from pathlib import Path
from typing import Any

import yaml

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"


@cache
def templates(feature: str) -> dict[str, Any]:
    """The phrases of ``feature`` (bot/templates/<feature>.yml)."""
    data = yaml.safe_load((TEMPLATES_DIR / f"{feature}.yml").read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{feature}.yml: a mapping of phrases expected")
    return data


def phrase(feature: str, key: str, **values: Any) -> str:
    """The phrase at ``key`` (dotted for nested keys: "summary.product"), filled with ``values``."""
    node: Any = templates(feature)
    for part in key.split("."):
        node = node[part]
    return str(node).format(**values) if values else str(node)


def phrases(feature: str, key: str) -> dict[str, str]:
    """A table of phrases (state → text), e.g. "demand_next"."""
    return {str(k): str(v) for k, v in templates(feature)[key].items()}
