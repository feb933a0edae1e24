"""Fixtures: a private copy of the seed data that a test may break."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge.store import DATA_DIR

Doc = dict[str, Any]


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """The seed YAML files copied into this test's own folder."""
    root = tmp_path / "data"
    shutil.copytree(DATA_DIR, root)
    return root


@pytest.fixture
def edit_yaml(data_copy: Path) -> Callable[[str, Callable[[Doc], None]], None]:
    """Rewrite one file of the copy: load it, let ``change`` mutate it, dump it back."""

    def edit(name: str, change: Callable[[Doc], None]) -> None:
        path = data_copy / name
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(doc)
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")

    return edit
