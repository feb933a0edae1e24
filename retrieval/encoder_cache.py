"""One cached encoder per process (overridable in tests): the encoder cache, not ORM models."""

from functools import lru_cache

from retrieval.encoder import Encoder, SentenceTransformerEncoder
from retrieval.settings import RetrievalSettings


@lru_cache(maxsize=2)
def _load(model: str, query_prefix: str, passage_prefix: str, batch_size: int) -> Encoder:
    return SentenceTransformerEncoder(
        model, query_prefix=query_prefix, passage_prefix=passage_prefix, batch_size=batch_size
    )


def get_encoder(settings: RetrievalSettings) -> Encoder:
    return _load(
        settings.model_path,
        settings.query_prefix,
        settings.passage_prefix,
        settings.embedding_batch_size,
    )
