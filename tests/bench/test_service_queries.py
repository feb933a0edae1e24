"""The labelled queries of the retrieval benchmark are well-formed (no model needed)."""

import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge.store import load_knowledge

DATA = Path(__file__).resolve().parents[2] / "bench" / "data" / "service_queries.yaml"
MIN_PER_SERVICE = 3


def _norm(text: str) -> str:
    """Lower-cased, without blanks and punctuation: a copy with a changed ？ is still a copy."""
    return re.sub(r"\W", "", text.lower())


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DATA.read_text("utf-8"))
    return loaded


@pytest.fixture(scope="module")
def service_ids() -> set[str]:
    return {service.id for service in load_knowledge().services}


def test_every_query_has_text_and_known_distinct_labels(
    data: dict[str, Any], service_ids: set[str]
) -> None:
    assert set(data) == {"queries", "out_of_scope"}
    assert len(data["queries"]) >= 150
    for item in data["queries"]:
        assert set(item) == {"q", "ids"}, item
        assert isinstance(item["q"], str) and item["q"].strip(), item
        ids = item["ids"]
        assert isinstance(ids, list) and ids and len(set(ids)) == len(ids), item
        assert set(ids) <= service_ids, (item["q"], sorted(set(ids) - service_ids))


def test_every_service_has_enough_queries(data: dict[str, Any], service_ids: set[str]) -> None:
    counts = Counter(item["ids"][0] for item in data["queries"])
    thin = {sid: counts[sid] for sid in service_ids if counts[sid] < MIN_PER_SERVICE}
    assert not thin, thin


def test_out_of_scope_queries_are_plain_unlabelled_strings(data: dict[str, Any]) -> None:
    assert len(data["out_of_scope"]) >= 20
    assert all(isinstance(q, str) and q.strip() for q in data["out_of_scope"])


def test_no_query_is_repeated(data: dict[str, Any]) -> None:
    texts = [_norm(item["q"]) for item in data["queries"]] + [
        _norm(q) for q in data["out_of_scope"]
    ]
    repeated = [text for text, n in Counter(texts).items() if n > 1]
    assert not repeated, repeated


def test_no_query_copies_an_indexed_example(data: dict[str, Any]) -> None:
    examples = {_norm(e) for s in load_knowledge().services for e in s.example_queries}
    texts = [item["q"] for item in data["queries"]] + list(data["out_of_scope"])
    copies = [text for text in texts if _norm(text) in examples]
    assert not copies, copies


def test_normalisation_catches_a_copy_with_other_punctuation() -> None:
    example = load_knowledge().services[0].example_queries[0]
    assert _norm(example.rstrip("？?") + " ?") == _norm(example)


def test_queries_include_traditional_characters_and_pinyin(data: dict[str, Any]) -> None:
    from retrieval.lexical import normalize

    texts = [item["q"] for item in data["queries"]]
    traditional = [t for t in texts if normalize(t) != unicodedata.normalize("NFKC", t)]
    pinyin = [t for t in texts if t.isascii() and re.search(r"[a-z]{4,}", t)]
    assert len(traditional) >= 8, traditional
    assert len(pinyin) >= 8, pinyin
