"""BM25 over jieba tokens, fused with the dense scores (exact words matter: 电缆, JJG 52).

Tokenising a corpus is the slow part of opening an index (jieba and pinyin, about 3 ms per
entry: minutes at 100,000 institutions), so a published version stores its entries' tokens
(``tokens.json``, see ``retrieval.index``) and opening it only reads them.
"""

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np

_STOP = frozenset(
    "的 了 和 与 及 或 在 是 我 我们 你 您 要 需要 想 一批 一下 请问 做 有 吗 呢 吧 啊".split()
)
_STANDARD = re.compile(r"(?:GB/T|GB|JJG|JJF|ISO|IEC)\s*[\d.]+(?:-\d{4})?", re.IGNORECASE)


@lru_cache(maxsize=1)
def _jieba():  # type: ignore[no-untyped-def]
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


_HAN = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Traditional → simplified characters, full-width letters and digits → ASCII (NFKC)."""
    import zhconv

    return zhconv.convert(unicodedata.normalize("NFKC", text), "zh-cn")


@lru_cache(maxsize=65536)
def _pinyin(word: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(word))


def tokenize(text: str, *, pinyin: bool = False) -> list[str]:
    """Search-mode jieba tokens plus whole standard numbers, lower-cased, without stop words.

    With ``pinyin`` every Chinese word also gives its toneless pinyin (压力表 → yalibiao), so
    a query typed in pinyin word by word meets the indexed text.
    """
    text = normalize(text)
    tokens = [m.group(0).replace(" ", "").upper() for m in _STANDARD.finditer(text)]
    words = [
        t.lower()
        for t in _jieba().cut_for_search(text)
        if t not in _STOP and any(ch.isalnum() for ch in t)
    ]
    tokens += words
    if pinyin:
        tokens += [_pinyin(w) for w in words if len(w) > 1 and _HAN.search(w)]
    return tokens


# Names what ``tokenize(text, pinyin=True)`` gives: change it whenever tokenize, the stop words,
# jieba's dictionary or the pinyin rule change, so stored tokens of the old rule are not reused.
TOKENIZER = "jieba-search+standards+pinyin/1"
TOKENS = "tokens.json"
Tokens = Mapping[str, list[str]]  # text_key(search text) → its corpus tokens


def text_key(text: str) -> str:
    """The key of a document's stored tokens: a digest of its text."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def document_tokens(text: str, key: str, known: Tokens) -> list[str]:
    """A document's corpus tokens: stored under ``key`` (its ``text_key``), or tokenised now."""
    stored = known.get(key)
    return stored if stored is not None else tokenize(text, pinyin=True) or ["∅"]


def corpus_tokens(texts: Iterable[str], known: Tokens | None = None) -> dict[str, list[str]]:
    """Tokens of each document (by ``text_key``), those already in ``known`` not tokenised again."""
    out: dict[str, list[str]] = {}
    for text in texts:
        key = text_key(text)
        if key not in out:
            out[key] = document_tokens(text, key, known or {})
    return out


def save_tokens(folder: Path, tokens: Tokens) -> None:
    data = {"tokenizer": TOKENIZER, "tokens": tokens}
    (folder / TOKENS).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def load_tokens(folder: Path) -> dict[str, list[str]] | None:
    """The stored tokens of a version; None when it has none or they came from another rule."""
    try:
        data = json.loads((folder / TOKENS).read_text("utf-8"))
    except FileNotFoundError:
        return None
    if not isinstance(data, dict) or data.get("tokenizer") != TOKENIZER:
        return None
    tokens: dict[str, list[str]] = data["tokens"]
    return tokens


class LexicalIndex:
    """BM25 (bm25s, Lucene variant) whose scores are scaled by what the query could reach.

    The scale is the sum of the query tokens' IDF (each token once in a document of average
    length); words the corpus never saw count with the highest IDF. So a query of unknown words
    (chit-chat) stays near 0 instead of being stretched to 1 by its best weak match.
    """

    def __init__(self, ids: list[str], texts: list[str], *, known: Tokens | None = None) -> None:
        """``known``: stored tokens (``corpus_tokens``); a text missing there is tokenised."""
        import bm25s

        self.ids = ids
        self._rows = {entry_id: row for row, entry_id in enumerate(ids)}
        corpus = [document_tokens(t, text_key(t), known or {}) for t in texts]
        self._bm25 = bm25s.BM25()
        self._bm25.index(corpus, show_progress=False)
        n = len(corpus)
        df: dict[str, int] = {}
        for tokens in corpus:
            for token in set(tokens):
                df[token] = df.get(token, 0) + 1
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5)

    def match(self, query: str) -> "LexicalScores":
        """The query's score per entry (0..1: how much of its weight the entry matches), as
        one array: looking up a few candidates or taking the best few never walks the corpus
        in Python (at 100,000 institutions a common word matches most of them)."""
        tokens = list(dict.fromkeys(tokenize(query)))
        known = [t for t in tokens if t in self._idf]
        if not known or not self.ids:
            return LexicalScores(self.ids, self._rows, None)
        reach = sum(self._idf.get(t, self._unknown_idf) for t in tokens)
        raw = np.asarray(self._bm25.get_scores(known), dtype=np.float32)
        return LexicalScores(self.ids, self._rows, np.minimum(1.0, raw.astype(np.float64) / reach))

    def scores(self, query: str) -> dict[str, float]:
        """Per matching entry, 0..1: how much of the query's weight the entry matches."""
        return self.match(query).as_dict()


class LexicalScores:
    """One query's scores over a LexicalIndex's entries (all 0 when no token is known)."""

    def __init__(self, ids: list[str], rows: dict[str, int], share: np.ndarray | None) -> None:
        self._ids, self._rows, self._share = ids, rows, share

    def get(self, entry_id: str, default: float = 0.0) -> float:
        row = self._rows.get(entry_id)
        if row is None or self._share is None or self._share[row] == 0:
            return default
        return float(self._share[row])

    def best(self, n: int) -> list[str]:
        """The ``n`` best matching ids, best first; equal scores in corpus order."""
        if self._share is None or n <= 0:
            return []
        share = self._share
        hits = np.flatnonzero(share)
        if len(hits) > n:  # keep the n best: all above the n-th score, then its equals in order
            cut = np.partition(share[hits], len(hits) - n)[len(hits) - n]
            above, equal = hits[share[hits] > cut], hits[share[hits] == cut]
            hits = np.sort(np.concatenate([above, equal[: n - len(above)]]))
        order = hits[np.argsort(-share[hits], kind="stable")]
        return [self._ids[i] for i in order.tolist()]

    def as_dict(self) -> dict[str, float]:
        if self._share is None:
            return {}
        hits = np.flatnonzero(self._share)
        return dict(
            zip([self._ids[i] for i in hits.tolist()], self._share[hits].tolist(), strict=True)
        )
