"""The 100k benchmark's generated institutions are distinct, seeded and found by search.

On the real e5 model and FAISS: a few hundred generated beside the sample, past the HNSW
threshold so the scale path (HNSW candidates plus the best BM25 hits) is the one searched.
"""

from pathlib import Path

import numpy as np

from bench.generated_institutions import generate, publish_with
from retrieval.index import open_version
from retrieval.search import Filters, Searcher
from retrieval.settings import RetrievalSettings

GENERATED = 300


def test_generated_institutions_are_seeded_and_distinct(
    retrieval_settings: RetrievalSettings,
) -> None:
    live = open_version(retrieval_settings.index_dir)
    assert live is not None and live.knowledge is not None
    sample = list(live.knowledge.institutions)
    vectors = live.indexes["institution"].vectors([e.id for e in sample])
    made = list(generate(sample, vectors, 2000, seed=5))
    again = list(generate(sample, vectors, 2000, seed=5))
    assert [e for e, _ in made] == [e for e, _ in again]
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(made, again, strict=True))
    assert len({e.title for e, _ in made}) == len({e.id for e, _ in made}) == 2000
    assert not {e.id for e, _ in made} & {e.id for e in sample}
    norms = np.linalg.norm(np.stack([v for _, v in made]), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5)


def test_search_finds_generated_institutions_by_name_and_filters(
    retrieval_settings: RetrievalSettings, tmp_path: Path
) -> None:
    live = open_version(retrieval_settings.index_dir)
    assert live is not None
    version, made = publish_with(live, tmp_path, GENERATED, threshold=100, seed=3)
    settings = RetrievalSettings(
        index_path=tmp_path, embedding_model=retrieval_settings.model_path, hnsw_threshold=100
    )
    searcher = Searcher.open(settings)
    assert searcher.manifest.version == version
    assert searcher.index("institution").backend == "hnsw"  # type: ignore[union-attr]
    assert searcher.manifest.counts["institution"] == GENERATED + len(live.indexes["institution"])
    picked = made[::15]  # 20 of them
    # by name within its region, as a user narrows it: each one on the first page
    in_region = [
        [
            h.id
            for h in searcher.search(
                e.title, kind="institution", k=10, filters=Filters(region=e.region)
            )
        ]
        for e in picked
    ]
    assert all(e.id in ids for e, ids in zip(picked, in_region, strict=True)), in_region
    assert sum(ids[0] == e.id for e, ids in zip(picked, in_region, strict=True)) >= len(picked) // 3
    # by name alone among all: most on the first page (their vectors are their templates', so
    # the name lifts them through BM25 only: bench/generated_institutions.py)
    anywhere = [[h.id for h in searcher.search(e.title, kind="institution", k=10)] for e in picked]
    assert sum(e.id in ids for e, ids in zip(picked, anywhere, strict=True)) >= 0.75 * len(picked)
