"""Settings of search and recommendation (environment variables, DESIGN §4)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_REPO_VAR = Path(__file__).resolve().parents[1] / "var"


class RetrievalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QCLINIC_", extra="ignore")

    var_dir: Path = _REPO_VAR
    embedding_model: str | None = None  # a sentence-transformers name or path
    embedding_batch_size: int = Field(default=32, ge=1)
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    # Below these fused scores a hit is not a match (e5 cosines sit high: chit-chat ~0.85).
    min_score: float = 0.88  # bench/retrieval_bench.py: no out-of-scope match at 0.88
    faq_min_score: float = 0.89

    @property
    def model_path(self) -> str:
        return self.embedding_model or str(self.var_dir / "models" / "multilingual-e5-small")

    @property
    def index_dir(self) -> Path:
        return self.var_dir / "index"


@lru_cache
def get_settings() -> RetrievalSettings:
    return RetrievalSettings()
