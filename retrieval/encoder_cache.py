"""One cached encoder per process (overridable in tests): the encoder cache, not ORM models.

``get_encoder`` gives the model of this process (in numpy when the model directory allows it:
retrieval.lean_encoder; else sentence-transformers), or, with ``QCLINIC_EMBEDDING_URL`` set, a
client of the process that holds it (retrieval.remote_encoder). ``local_encoder`` always loads the
model here: the process that serves embeddings to the others uses it.
"""

from functools import lru_cache

from retrieval import lean_encoder
from retrieval.encoder import Encoder, SentenceTransformerEncoder
from retrieval.remote_encoder import RemoteEncoder
from retrieval.settings import RetrievalSettings


@lru_cache(maxsize=2)
def _load(
    model: str, query_prefix: str, passage_prefix: str, batch_size: int, backend: str
) -> Encoder:
    if backend == "numpy" or (backend == "auto" and lean_encoder.supports(model)):
        return lean_encoder.LeanBertEncoder(
            model, query_prefix=query_prefix, passage_prefix=passage_prefix, batch_size=batch_size
        )
    return SentenceTransformerEncoder(
        model, query_prefix=query_prefix, passage_prefix=passage_prefix, batch_size=batch_size
    )


@lru_cache(maxsize=2)
def _remote(url: str, token: str, timeout_s: float) -> Encoder:
    return RemoteEncoder(url, token=token, timeout_s=timeout_s)


def local_encoder(settings: RetrievalSettings) -> Encoder:
    return _load(
        settings.model_path,
        settings.query_prefix,
        settings.passage_prefix,
        settings.embedding_batch_size,
        settings.embedding_backend,
    )


def get_encoder(settings: RetrievalSettings) -> Encoder:
    if settings.embedding_url:
        token = settings.embedding_token.get_secret_value() if settings.embedding_token else ""
        return _remote(settings.embedding_url, token, settings.embedding_timeout_s)
    return local_encoder(settings)
