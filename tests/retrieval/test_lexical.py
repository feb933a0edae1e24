"""Query normalisation and the BM25 side: traditional characters, pinyin, standard numbers."""

from retrieval.lexical import LexicalIndex, normalize, tokenize


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
