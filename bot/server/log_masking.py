"""Rasa's server masks personal data in its logs like the app and the action server do.

The rules are ``knowledge/masking.py`` (the standard library only). Rasa's environment (Python
3.10, pydantic 1) cannot import the ``knowledge`` package itself, whose ``__init__`` loads the
schema, so that one file is loaded by its path.
"""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

MASKING_FILE = Path(__file__).resolve().parents[2] / "knowledge" / "masking.py"
MODULE_NAME = "qclinic_masking"


def load() -> ModuleType:
    if MODULE_NAME in sys.modules:
        return sys.modules[MODULE_NAME]
    spec = importlib.util.spec_from_file_location(MODULE_NAME, MASKING_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module


def install() -> None:
    """Mask every log record of this process as it is created."""
    load().install_log_masking()
