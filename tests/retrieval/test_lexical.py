"""Query normalisation and the BM25 side: traditional characters, pinyin, standard numbers."""

import json
from pathlib import Path

from retrieval.lexical import (
    TOKENS,
    LexicalIndex,
    corpus_tokens,
    load_tokens,
    normalize,
    save_tokens,
    text_key,
    tokenize,
)


def test_traditional_and_full_width_text_is_normalised() -> None:
    assert normalize("壓力錶需要校準") == "压力表需要校准"
    assert normalize("ＧＢ／Ｔ　１９００１") == "GB/T 19001"


def test_tokens_keep_standard_numbers_and_add_pinyin_for_the_index() -> None:
    assert "GB/T12706" in tokenize("按 GB/T 12706 做型式试验")
    assert "yalibiao" not in tokenize("压力表校准")
    assert {"压力表", "yalibiao", "jiaozhun"} <= set(tokenize("压力表校准", pinyin=True))


def test_pinyin_and_traditional_queries_meet_simplified_entries() -> None:
    index = LexicalIndex(["a", "b"], ["压力表校准服务", "电线电缆检测服务"])
    scores = index.scores("dianxian dianlan jiance")
    assert max(scores, key=lambda entry_id: scores[entry_id]) == "b"
    assert set(index.scores("壓力錶校準")) == {"a"}
    assert index.scores("今晚吃火锅") == {}


def test_best_candidates_are_the_highest_scores_with_ties_in_corpus_order() -> None:
    # clipped full matches tie at 1.0: the best few must be those a stable sort of every
    # score gives, and each lookup the score the whole dictionary holds
    texts = ["电线电缆检测"] * 6 + ["电缆检测服务", "电线检测", "检测机构", "压力表校准"] * 3
    index = LexicalIndex([f"e{i}" for i in range(len(texts))], texts)
    for query in ("电线电缆检测", "电缆", "检测", "压力表", "火锅"):
        scores = index.scores(query)
        ranked = sorted(scores, key=lambda entry_id: scores[entry_id], reverse=True)
        match = index.match(query)
        for n in (1, 3, 6, 7, 12, 100):
            assert match.best(n) == ranked[:n], (query, n)
        assert all(match.get(entry_id) == score for entry_id, score in scores.items())
        assert match.get("e-unknown") == 0.0
    assert index.match("火锅").best(5) == [] and index.scores("检测")


def test_stored_tokens_give_the_same_scores_and_missing_ones_are_tokenised() -> None:
    texts = ["压力表校准服务", "电线电缆检测服务 GB/T 12706", "检测机构", "压力表校准服务"]
    ids = [f"e{i}" for i in range(len(texts))]
    fresh = LexicalIndex(ids, texts)
    stored = corpus_tokens(texts[:2])
    assert len(stored) == 2 and stored[text_key(texts[1])] == tokenize(texts[1], pinyin=True)
    reused = LexicalIndex(ids, texts, known=stored)
    for query in ("压力表", "dianlan", "GB/T 12706", "检测", "火锅"):
        assert reused.scores(query) == fresh.scores(query), query
    # a stored token list is used as given (a text's key, not its position, finds it)
    wrong = {text_key(texts[2]): ["火锅"]}
    assert set(LexicalIndex(ids, texts, known=wrong).scores("火锅")) == {"e2"}


def test_tokens_are_stored_with_their_tokenizer_and_another_rule_is_ignored(
    tmp_path: Path,
) -> None:
    tokens = corpus_tokens(["压力表校准服务"])
    assert load_tokens(tmp_path) is None
    save_tokens(tmp_path, tokens)
    assert load_tokens(tmp_path) == tokens
    data = json.loads((tmp_path / TOKENS).read_text("utf-8"))
    (tmp_path / TOKENS).write_text(json.dumps({**data, "tokenizer": "older"}), encoding="utf-8")
    assert load_tokens(tmp_path) is None
