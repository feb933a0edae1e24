"""The import-linter contracts hold on the tree, and a wrong import breaks them (DESIGN §3)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("app", "channels", "desk", "retrieval", "knowledge", "bot")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The Python sources of the packages, nothing else (no venv, no var/)."""
    for package in PACKAGES:
        shutil.copytree(
            REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract() -> None:
    result = lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "broken"),
    [
        (
            "desk/audit/__init__.py",
            "import channels.runtime",
            "desk is not allowed to import channels",
        ),
        ("knowledge/schema.py", "import retrieval.search", "knowledge is not allowed to import"),
        ("bot/actions/common.py", "import desk.db", "bot.actions is not allowed to import desk"),
        ("desk/clock.py", "import app.main", "desk is not allowed to import app"),
    ],
)
def test_a_wrong_import_breaks_a_contract(
    tree_copy: Path, module: str, bad_import: str, broken: str
) -> None:
    target = tree_copy / module
    target.write_text(target.read_text() + f"\n{bad_import}  # noqa\n")
    result = lint(tree_copy)
    assert result.returncode != 0
    assert broken in result.stdout, result.stdout
