"""Knowledge API tests: the real model and index, each test on its own copy of the index."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from desk.knowledge.router import get_retrieval_settings
from retrieval import search as search_module
from retrieval.settings import RetrievalSettings
from tests.desk.staff import staff_headers


@pytest.fixture
def index_copy(retrieval_settings: RetrievalSettings, tmp_path: Path) -> RetrievalSettings:
    """A private copy of the session's real index (publishing writes new versions into it)."""
    target = tmp_path / "index"
    shutil.copytree(retrieval_settings.index_dir, target)
    return retrieval_settings.model_copy(update={"index_path": target})


@pytest.fixture
def kclient(
    client: TestClient, index_copy: RetrievalSettings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The desk app publishing into ``index_copy``; /api/search and live readers read it too."""
    app: Any = client.app
    app.dependency_overrides[get_retrieval_settings] = lambda: index_copy
    monkeypatch.setattr(search_module, "get_settings", lambda: index_copy)
    monkeypatch.setattr("retrieval.live.get_settings", lambda: index_copy)
    yield client
    app.dependency_overrides.pop(get_retrieval_settings, None)


@pytest.fixture
def staff(kclient: TestClient) -> dict[str, str]:
    return staff_headers(kclient)
