"""Build the FAISS indexes of the published knowledge, skipping work when nothing changed."""

import logging
import time
from dataclasses import dataclass

from knowledge.constants import Kind
from knowledge.store import KnowledgeBase, load_knowledge
from retrieval.embedding_cache import cache_file, encode_passages_cached
from retrieval.encoder import Encoder
from retrieval.encoder_cache import get_encoder
from retrieval.index import Manifest, publish, read_manifest
from retrieval.lexical import TOKENIZER
from retrieval.settings import RetrievalSettings, get_settings
from retrieval.vector_index import FlatIndex, HnswIndex, make_index

log = logging.getLogger(__name__)
KINDS: tuple[Kind, ...] = ("service", "institution", "station", "faq")


@dataclass(frozen=True)
class BuildResult:
    manifest: Manifest
    rebuilt: bool
    encoded: int  # passages encoded now (the rest came from the embedding cache)


def build_index(
    *,
    settings: RetrievalSettings | None = None,
    knowledge: KnowledgeBase | None = None,
    encoder: Encoder | None = None,
    force: bool = False,
) -> BuildResult:
    """Rebuild only when the knowledge, the model or the tokenizer changed (a version without
    stored BM25 tokens, published before they were, gets them: the embedding cache keeps it
    cheap).

    Without a database the YAML knowledge is the source of truth: entries changed one by
    one through ``retrieval.lifecycle`` give way to it at the next rebuild. Once staff
    published from the desk (``source == "database"``) only ``force`` rebuilds from YAML, so
    a set-up run never undoes what they published.
    """
    settings = settings or get_settings()
    knowledge = knowledge or load_knowledge()
    knowledge_hash = knowledge.content_hash()
    current = read_manifest(settings.index_dir)
    if not force and current is not None and current.source == "database":
        return BuildResult(current, rebuilt=False, encoded=0)
    if (
        not force
        and current is not None
        and current.knowledge_hash == knowledge_hash
        and current.model == settings.model_path
        and current.lexical == TOKENIZER
    ):
        return BuildResult(current, rebuilt=False, encoded=0)
    started = time.perf_counter()
    encoder = encoder or get_encoder(settings)
    by_kind = {kind: knowledge.published(kind) for kind in KINDS}
    entries = [entry for kind in KINDS for entry in by_kind[kind]]
    vectors, encoded = encode_passages_cached(
        encoder,
        [entry.search_text() for entry in entries],
        cache_file(settings.index_dir, settings.model_path),
    )
    indexes: dict[str, FlatIndex | HnswIndex] = {}
    start = 0
    for kind in KINDS:
        count = len(by_kind[kind])
        index = make_index(encoder.dimension, count, **settings.hnsw_params())
        index.add([entry.id for entry in by_kind[kind]], vectors[start : start + count])
        indexes[kind] = index
        start += count
    manifest = publish(
        settings.index_dir,
        indexes,
        model=settings.model_path,
        knowledge_hash=knowledge_hash,
        entries=knowledge.entries(),
    )
    log.info(
        "index %s built: %s, %d passages encoded, %.1fs",
        manifest.version,
        manifest.counts,
        encoded,
        time.perf_counter() - started,
    )
    return BuildResult(manifest, rebuilt=True, encoded=encoded)
