"""Settings of search and recommendation (environment variables, DESIGN §4)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from retrieval.vector_index import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M

_REPO_VAR = Path(__file__).resolve().parents[1] / "var"


class RetrievalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QCLINIC_", extra="ignore", populate_by_name=True)

    var_dir: Path = _REPO_VAR
    index_path: Path | None = Field(default=None, alias="QCLINIC_INDEX_DIR")  # else var/index
    embedding_model: str | None = None  # a sentence-transformers name or path
    embedding_batch_size: int = Field(default=32, ge=1)
    # How this process computes embeddings: "numpy" (retrieval.lean_encoder: no torch, weights
    # memory-mapped; for BERT mean-pooling models such as the default e5), "sentence-transformers",
    # or "auto": numpy when the model directory is of that shape, else sentence-transformers.
    embedding_backend: Literal["auto", "numpy", "sentence-transformers"] = "auto"
    # Ask another process for embeddings (the app's POST /api/embeddings) instead of loading the
    # model here: app.stack sets it for the action server, so one process holds the model.
    embedding_url: str | None = None
    embedding_token: SecretStr | None = Field(default=None, alias="QCLINIC_SERVICE_TOKEN")
    embedding_timeout_s: float = Field(default=3.0, gt=0)
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    # Below these fused scores a hit is not a match (e5 cosines sit high: chit-chat ~0.85).
    min_score: float = 0.88  # bench/retrieval_bench.py: no out-of-scope match at 0.88
    faq_min_score: float = 0.89
    # Index backend per kind: exact (IDMap, Flat) below this many entries, HNSW from there.
    hnsw_threshold: int = Field(default=5000, ge=1)
    # HNSW graph degree, build and search breadth (bench/index_scale_bench.py)
    hnsw_m: int = Field(default=HNSW_M, ge=4)
    hnsw_ef_construction: int = Field(default=HNSW_EF_CONSTRUCTION, ge=8)
    hnsw_ef_search: int = Field(default=HNSW_EF_SEARCH, ge=8)
    # HNSW candidates fetched per query before hybrid re-ranking (exact indexes rank all).
    hnsw_candidates: int = Field(default=200, ge=10)
    # Vectors of this many recent queries kept per process (retrieval.query_cache); 0: none.
    query_cache_size: int = Field(default=2048, ge=0)

    def hnsw_params(self) -> dict[str, int]:
        return {
            "threshold": self.hnsw_threshold,
            "m": self.hnsw_m,
            "ef_construction": self.hnsw_ef_construction,
            "ef_search": self.hnsw_ef_search,
        }

    @property
    def model_path(self) -> str:
        return self.embedding_model or str(self.var_dir / "models" / "multilingual-e5-small")

    @property
    def index_dir(self) -> Path:
        return self.index_path or self.var_dir / "index"


@lru_cache
def get_settings() -> RetrievalSettings:
    return RetrievalSettings()
