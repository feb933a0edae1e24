"""POST /api/embeddings: the app's model encodes for the action server (service token only).

One process holds the e5 model; the action server sends its query texts here and searches its
own FAISS copy with the answer (retrieval.remote_encoder). The route always encodes with this
process's own model and prefixes, never forwards. Not part of the public API description.
"""

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, StringConstraints

from desk.deps import ServiceDep
from retrieval.encoder_cache import local_encoder
from retrieval.settings import get_settings

router = APIRouter(prefix="/api", tags=["search"])

MAX_TEXTS = 64
MAX_CHARS = 4000


class EmbeddingRequest(BaseModel):
    kind: Literal["query", "passage"] = "query"
    texts: list[Annotated[str, StringConstraints(max_length=MAX_CHARS)]] = Field(
        max_length=MAX_TEXTS
    )


class Embeddings(BaseModel):
    model: str
    dimension: int
    vectors: list[list[float]]  # L2-normalised, one per text, in order


@router.post("/embeddings", include_in_schema=False)
def embeddings(body: EmbeddingRequest, _: ServiceDep) -> Embeddings:
    """Vectors of ``texts`` as queries or passages (the e5 prefix is added here)."""
    encoder = local_encoder(get_settings())
    encode = encoder.encode_queries if body.kind == "query" else encoder.encode_passages
    vectors = encode(body.texts)
    return Embeddings(model=encoder.name, dimension=encoder.dimension, vectors=vectors.tolist())
