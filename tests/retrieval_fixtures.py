"""A real index (the converted e5 model, FAISS, the seed knowledge) built once per session."""

import shutil
from pathlib import Path

import pytest

from retrieval.build import build_index
from retrieval.settings import RetrievalSettings

REPO_VAR = Path(__file__).resolve().parents[1] / "var"
REPO_MODEL = REPO_VAR / "models" / "multilingual-e5-small"


@pytest.fixture(scope="session")
def retrieval_settings(tmp_path_factory: pytest.TempPathFactory) -> RetrievalSettings:
    assert (REPO_MODEL / "conversion.json").exists(), "run `make setup` to convert the model"
    settings = RetrievalSettings(
        var_dir=tmp_path_factory.mktemp("retrieval-var"), embedding_model=str(REPO_MODEL)
    )
    # Start from the set-up's embedding cache (content-addressed, so it cannot be stale).
    settings.index_dir.mkdir(parents=True)
    for cache in (REPO_VAR / "index").glob("embeddings-*.npz"):
        shutil.copy(cache, settings.index_dir / cache.name)
    build_index(settings=settings)
    return settings
