"""Where the project keeps its runtime state (never in git)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VAR_DIR = REPO_ROOT / "var"
