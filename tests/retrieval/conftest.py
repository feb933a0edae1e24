"""A real index (the converted e5 model, FAISS, the seed knowledge) built once per session."""

from pathlib import Path

import pytest

from retrieval.build import build_index
from retrieval.settings import RetrievalSettings

REPO_MODEL = Path(__file__).resolve().parents[2] / "var" / "models" / "multilingual-e5-small"


@pytest.fixture(scope="session")
def retrieval_settings(tmp_path_factory: pytest.TempPathFactory) -> RetrievalSettings:
    assert (REPO_MODEL / "conversion.json").exists(), "run `make setup` to convert the model"
    settings = RetrievalSettings(
        var_dir=tmp_path_factory.mktemp("retrieval-var"), embedding_model=str(REPO_MODEL)
    )
    build_index(settings=settings)
    return settings
