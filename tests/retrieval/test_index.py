"""FlatIndex and the versioned index folder, on seeded vectors (no model needed)."""

from pathlib import Path

import numpy as np
import pytest

from retrieval.index import CURRENT, FlatIndex, current_version, publish, read_manifest


def _unit(rng: np.random.Generator, n: int, d: int = 8) -> np.ndarray:
    vectors = rng.standard_normal((n, d)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_search_finds_itself_first_and_scores_are_cosines() -> None:
    rng = np.random.default_rng(7)
    vectors = _unit(rng, 20)
    index = FlatIndex(8)
    index.add([f"e{i}" for i in range(20)], vectors)
    hits = index.search(vectors[5], 3)
    assert hits[0][0] == "e5"
    assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert hits[0][1] >= hits[1][1] >= hits[2][1]


def test_remove_and_update_entries() -> None:
    rng = np.random.default_rng(11)
    vectors = _unit(rng, 5)
    index = FlatIndex(8)
    index.add(["a", "b", "c", "d", "e"], vectors)
    assert index.remove(["c"]) == 1
    assert len(index) == 4
    assert "c" not in [entry for entry, _ in index.search(vectors[2], 5)]
    index.add(["c"], vectors[:1])  # re-added with new content
    assert {entry for entry, _ in index.search(vectors[0], 2)} == {"a", "c"}


def test_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="expected"):
        FlatIndex(8).add(["a"], np.zeros((2, 8), dtype=np.float32))


def test_publish_swaps_versions_atomically_and_keeps_manifest(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    first = FlatIndex(8)
    first.add(["a", "b"], _unit(rng, 2))
    m1 = publish(tmp_path, {"service": first}, model="m", knowledge_hash="h1")
    assert read_manifest(tmp_path) == m1
    assert m1.counts == {"service": 2} and m1.dimension == 8

    second = FlatIndex(8)
    second.add(["a", "b", "c"], _unit(rng, 3))
    m2 = publish(tmp_path, {"service": second}, model="m", knowledge_hash="h2")
    assert current_version(tmp_path) == m2.version != m1.version
    assert (tmp_path / CURRENT).read_text() == m2.version
    assert not list(tmp_path.glob(".*.tmp"))  # no half-written version left behind
    loaded = FlatIndex.load(tmp_path / m2.version, "service")
    assert len(loaded) == 3
    # the previous version stays readable for a reader that opened it before the swap
    assert len(FlatIndex.load(tmp_path / m1.version, "service")) == 2
