"""Recent query vectors: the encoder's own vectors, asked once, bounded (no model needed)."""

import numpy as np
import pytest

from retrieval.query_cache import QueryVectors
from tests.retrieval.fakes import HashEncoder


class CountingEncoder(HashEncoder):
    def __init__(self) -> None:
        self.asked: list[str] = []

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        self.asked += texts
        return super().encode_queries(texts)


def test_a_repeated_query_is_encoded_once_and_gets_the_same_vector() -> None:
    encoder, cache = CountingEncoder(), QueryVectors(2)
    first = cache.vector(encoder, "压力表校准")
    again = cache.vector(encoder, "压力表校准")
    assert encoder.asked == ["压力表校准"] and (cache.hits, cache.misses) == (1, 1)
    assert np.array_equal(first, again)
    assert np.array_equal(first, HashEncoder().encode_queries(["压力表校准"])[0])
    with pytest.raises(ValueError):
        again[0] = 1.0  # shared between requests: read-only


def test_the_least_recent_query_leaves_first_and_size_zero_keeps_nothing() -> None:
    encoder, cache = CountingEncoder(), QueryVectors(2)
    for text in ("a1", "b1", "a1", "c1", "a1", "b1"):  # b1 left when c1 came
        cache.vector(encoder, text)
    assert encoder.asked == ["a1", "b1", "c1", "b1"]
    off, plain = QueryVectors(0), CountingEncoder()
    off.vector(plain, "a1")
    off.vector(plain, "a1")
    assert plain.asked == ["a1", "a1"]
