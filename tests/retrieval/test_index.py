"""The VectorIndex contract, run against every backend, and the versioned index folder.

Seeded vectors, no model needed.
"""

from pathlib import Path

import numpy as np
import pytest

from retrieval.index import (
    CURRENT,
    Version,
    current_version,
    open_version,
    publish,
    read_manifest,
)
from retrieval.vector_index import (
    BACKENDS,
    FlatIndex,
    HnswIndex,
    fit_backend,
    load_index,
    make_index,
)

Index = FlatIndex | HnswIndex


def _unit(rng: np.random.Generator, n: int, d: int = 8) -> np.ndarray:
    vectors = rng.standard_normal((n, d)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture(params=BACKENDS)
def new_index(request: pytest.FixtureRequest) -> type[Index]:
    return FlatIndex if request.param == "flat" else HnswIndex


# ── the contract: every backend ─────────────────────────────────────────────────────────


def test_search_finds_itself_first_and_scores_are_cosines(new_index: type[Index]) -> None:
    vectors = _unit(np.random.default_rng(7), 200)
    index = new_index(8)
    index.add([f"e{i}" for i in range(200)], vectors)
    for row in (5, 77, 199):
        hits = index.search(vectors[row], 3)
        assert hits[0][0] == f"e{row}"
        assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
        assert hits[0][1] >= hits[1][1] >= hits[2][1]
    assert index.search_batch(vectors[:2], 1) == [
        index.search(vectors[0], 1),
        index.search(vectors[1], 1),
    ]


def test_remove_and_update_entries(new_index: type[Index]) -> None:
    vectors = _unit(np.random.default_rng(11), 5)
    index = new_index(8)
    index.add(["a", "b", "c", "d", "e"], vectors)
    assert index.remove(["c", "zz"]) == 1
    assert len(index) == 4 and "c" not in index
    assert "c" not in [entry for entry, _ in index.search(vectors[2], 5)]
    index.add(["c"], vectors[:1])  # back, with new content
    assert {entry for entry, _ in index.search(vectors[0], 2)} == {"a", "c"}
    index.add(["a"], vectors[4:5])  # adding an id that is present replaces it
    assert len(index) == 5
    assert np.allclose(index.vectors(["a"])[0], vectors[4])
    assert sorted(index.ids()) == ["a", "b", "c", "d", "e"]
    assert len(index.search(vectors[0], 50)) == 5  # never more than there are


def test_wrong_shape_and_repeated_ids_are_refused(new_index: type[Index]) -> None:
    with pytest.raises(ValueError, match="expected"):
        new_index(8).add(["a"], np.zeros((2, 8), dtype=np.float32))
    with pytest.raises(ValueError, match="duplicate"):
        new_index(8).add(["a", "a"], np.zeros((2, 8), dtype=np.float32))
    assert new_index(8).search(np.ones(8, dtype=np.float32), 3) == []


def test_save_and_load_keep_backend_ids_and_results(new_index: type[Index], tmp_path: Path) -> None:
    vectors = _unit(np.random.default_rng(5), 50)
    index = new_index(8)
    index.add([f"e{i}" for i in range(50)], vectors)
    index.remove(["e3", "e4"])
    index.save(tmp_path, "faq")
    loaded = load_index(tmp_path, "faq")
    assert loaded.backend == index.backend and len(loaded) == 48
    assert loaded.search(vectors[10], 3) == index.search(vectors[10], 3)
    assert "e3" not in loaded
    loaded.add(["new"], vectors[3:4])  # keys keep counting after a load
    assert loaded.search(vectors[3], 1)[0][0] == "new"


def test_live_returns_every_live_vector(new_index: type[Index]) -> None:
    vectors = _unit(np.random.default_rng(2), 30)
    index = new_index(8)
    index.add([f"e{i}" for i in range(30)], vectors)
    index.remove(["e0", "e29"])
    ids, matrix = index.live()
    assert ids == [f"e{i}" for i in range(1, 29)]
    assert np.allclose(matrix, vectors[1:29])


# ── backend choice and HNSW specifics ────────────────────────────────────────────────────


def test_backend_follows_the_size_threshold() -> None:
    vectors = _unit(np.random.default_rng(1), 60)
    assert make_index(8, 59, threshold=60).backend == "flat"
    small = make_index(8, 60, threshold=60)
    assert isinstance(small, HnswIndex)
    flat = FlatIndex(8)
    flat.add([f"e{i}" for i in range(60)], vectors)
    grown = fit_backend(flat, threshold=50)
    assert grown.backend == "hnsw" and len(grown) == 60
    assert grown.search(vectors[7], 1)[0][0] == "e7"
    grown.remove([f"e{i}" for i in range(20)])
    shrunk = fit_backend(grown, threshold=50)
    assert shrunk.backend == "flat" and sorted(shrunk.ids()) == sorted(grown.ids())
    assert fit_backend(shrunk, threshold=50) is shrunk


def test_hnsw_removal_is_a_tombstone_until_the_graph_is_rebuilt() -> None:
    vectors = _unit(np.random.default_rng(3), 100)
    index = HnswIndex(8)
    index.add([f"e{i}" for i in range(100)], vectors)
    index.remove([f"e{i}" for i in range(10)])
    assert len(index) == 90 and index._index.ntotal == 100  # tombstones
    assert all(hit[0] not in {f"e{i}" for i in range(10)} for hit in index.search(vectors[0], 20))
    index.remove([f"e{i}" for i in range(10, 40)])  # past a quarter: the graph is rebuilt
    assert len(index) == 60 and index._index.ntotal == 60
    assert index.search(vectors[50], 1)[0][0] == "e50"


# ── versions ─────────────────────────────────────────────────────────────────────────────


def test_publish_swaps_versions_atomically_and_keeps_manifest(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    first = FlatIndex(8)
    first.add(["a", "b"], _unit(rng, 2))
    m1 = publish(tmp_path, {"service": first}, model="m", knowledge_hash="h1")
    assert read_manifest(tmp_path) == m1
    assert m1.counts == {"service": 2} and m1.dimension == 8
    assert m1.backends == {"service": "flat"}

    second = HnswIndex(8)
    second.add(["a", "b", "c"], _unit(rng, 3))
    m2 = publish(tmp_path, {"service": second}, model="m", knowledge_hash="h2")
    assert current_version(tmp_path) == m2.version != m1.version
    assert (tmp_path / CURRENT).read_text() == m2.version
    assert not list(tmp_path.glob(".*.tmp"))  # no half-written version left behind
    version = open_version(tmp_path)
    assert version is not None and version.manifest == m2 and version.knowledge is None
    assert version.indexes["service"].backend == "hnsw" and len(version.indexes["service"]) == 3
    # the previous version stays readable for a reader that opened it before the swap
    assert len(FlatIndex.load(tmp_path / m1.version, "service")) == 2


def test_old_versions_are_pruned_and_a_missing_index_reads_as_none(tmp_path: Path) -> None:
    assert open_version(tmp_path) is None and read_manifest(tmp_path) is None
    index = FlatIndex(8)
    index.add(["a"], _unit(np.random.default_rng(0), 1))
    names = [
        publish(tmp_path, {"faq": index}, model="m", knowledge_hash=str(n)).version
        for n in range(5)
    ]
    assert sorted(p.name for p in tmp_path.glob("v*")) == names[-3:]


# ── exact search split across cores ─────────────────────────────────────────────────────


@pytest.mark.parametrize("shards", [2, 3])
def test_split_scan_gives_exactly_the_flat_index_results(shards: int) -> None:
    import faiss

    from retrieval.vector_index import openmp_threads_here, sharded_knn

    openmp_threads_here(1)  # one scan as the index runs it for one query (faiss's kernels for
    # one query differ in the last bits between one thread and a team)
    rng = np.random.default_rng(23)
    matrix = _unit(rng, 30_001, d=48)
    flat = faiss.IndexFlatIP(48)
    flat.add(matrix)
    queries = _unit(rng, 5, d=48)
    for k in (1, 10, 200):
        for row in range(len(queries)):  # one query per call, as the search API asks
            query = queries[row : row + 1]
            want_scores, want_rows = flat.search(query, k)
            scores, rows = sharded_knn(query, matrix, k, shards)
            assert rows.tolist() == want_rows.tolist()
            assert scores.tolist() == want_scores.tolist()  # the same floats


def test_flat_index_past_the_split_size_returns_what_one_scan_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from retrieval import vector_index

    rng = np.random.default_rng(29)
    index = FlatIndex(32)
    index.add([f"e{i}" for i in range(5000)], _unit(rng, 5000, d=32))
    index.remove([f"e{i}" for i in range(0, 5000, 7)])  # ids no longer follow rows
    index.add(["e14"], _unit(rng, 1, d=32))
    queries = _unit(rng, 4, d=32)
    monkeypatch.setattr(vector_index, "SHARD_MIN_ROWS", 10**9)
    one_scan = [index.search(q, 20) for q in queries]
    monkeypatch.setattr(vector_index, "SHARD_MIN_ROWS", 100)
    monkeypatch.setattr(vector_index, "scan_threads", lambda: 2)
    assert [index.search(q, 20) for q in queries] == one_scan
    assert index.search_batch(queries[:2], 20) == one_scan[:2]
    assert len(index.search(queries[0], 10_000)) == len(index)


def test_a_search_of_one_query_runs_without_an_openmp_team_and_a_build_with_it() -> None:
    import os
    import threading

    import faiss

    from retrieval import vector_index

    def in_a_thread(work):  # type: ignore[no-untyped-def]
        out = []
        worker = threading.Thread(target=lambda: out.append(work()))
        worker.start()
        worker.join()
        return out[0]

    default = in_a_thread(faiss.omp_get_max_threads)  # a new thread's own
    rng = np.random.default_rng(31)
    index = FlatIndex(16)
    index.add([f"e{i}" for i in range(50)], _unit(rng, 50, d=16))
    here = faiss.omp_get_max_threads()
    seen: dict[str, object] = {}

    def search() -> None:
        seen["hits"] = index.search(_unit(rng, 1, d=16)[0], 3)
        seen["threads"] = faiss.omp_get_max_threads()

    def search_then_build() -> None:
        search()
        HnswIndex(16).add([f"h{i}" for i in range(20)], _unit(rng, 20, d=16))
        seen["building"] = faiss.omp_get_max_threads()

    in_a_thread(search_then_build)
    assert len(seen["hits"]) == 3  # type: ignore[arg-type]
    assert seen["threads"] == 1  # no team to wait for on the request's thread
    assert seen["building"] == default  # a publish on the same worker thread builds with all
    assert faiss.omp_get_max_threads() == here  # other threads keep theirs
    assert in_a_thread(faiss.omp_get_max_threads) == default
    assert vector_index.openmp_default() == default
    assert vector_index.scan_threads() == max(1, min(default, os.cpu_count() or 1))


# ── stored BM25 tokens ──────────────────────────────────────────────────────────────────


def test_a_version_stores_its_bm25_tokens_and_one_without_them_still_searches_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge.store import load_knowledge
    from retrieval import lexical
    from retrieval.lexical import TOKENIZER, TOKENS, text_key
    from retrieval.search import Searcher
    from tests.retrieval.fakes import HashEncoder

    sample = load_knowledge()
    encoder = HashEncoder()
    services = sample.published("service")
    index = FlatIndex(encoder.dimension)
    texts = [e.search_text() for e in services]
    index.add([e.id for e in services], encoder.encode_passages(texts))
    manifest = publish(
        tmp_path, {"service": index}, model="m", knowledge_hash="h", entries=services
    )
    version = open_version(tmp_path)
    assert version is not None and version.tokens is not None
    assert manifest.lexical == TOKENIZER
    assert set(version.tokens) == {text_key(e.search_text()) for e in services}

    # republishing after one change tokenises only the changed text
    calls: list[str] = []
    real = lexical.tokenize

    def counted(text: str, *, pinyin: bool = False) -> list[str]:
        calls.append(text)
        return real(text, pinyin=pinyin)

    monkeypatch.setattr(lexical, "tokenize", counted)
    changed = [services[0].model_copy(update={"title": "压力表校准（加急）"}), *services[1:]]
    publish(tmp_path, {"service": index}, model="m", knowledge_hash="h2", entries=changed)
    assert calls == [changed[0].search_text()]
    monkeypatch.setattr(lexical, "tokenize", real)

    stored = open_version(tmp_path)
    assert stored is not None and stored.knowledge is not None and stored.tokens is not None
    (tmp_path / stored.manifest.version / TOKENS).unlink()  # as a version published before
    legacy = open_version(tmp_path)
    assert legacy is not None and legacy.tokens is None and legacy.knowledge is not None

    def searcher(v: Version) -> Searcher:
        assert v.knowledge is not None
        return Searcher(
            manifest=v.manifest, indexes=v.indexes, knowledge=v.knowledge, encoder=encoder,
            tokens=v.tokens,
        )  # fmt: skip

    fast, slow = searcher(stored), searcher(legacy)
    for query in ("压力表校准", "加急", "dianlan jiance", "GB/T 12706", "今晚吃火锅"):
        assert fast._lexical["service"].scores(query) == slow._lexical["service"].scores(query)
        assert fast.search(query, kind="service", k=10) == slow.search(query, kind="service", k=10)
