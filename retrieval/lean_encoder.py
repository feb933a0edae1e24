"""The e5 model without torch: the same BERT forward pass in numpy over memory-mapped weights.

Why: in the process that serves embeddings, sentence-transformers costs about 800 MB resident —
torch (~210 MB), the imports transformers brings (scipy, sympy, sklearn: ~190 MB), the fast
tokenizer's Unigram trie over 250k pieces (~285 MB) — for a model whose weights are 85 MB of
layers plus an embedding table of which a query touches a few rows. Here:

* weights are read in place from ``model.safetensors`` (``np.memmap``): only the pages a forward
  pass touches become resident (the 12 layers, and the embedding rows of the tokens seen);
* the tokenizer is the same ``tokenizer.json``: its normalizer and pre-tokenizer are the
  ``tokenizers`` objects themselves (small), and the Unigram segmentation is tokenizers' own
  Viterbi (same scores, same order of candidates, same tie-breaking, unknown runs fused), over a
  plain dict of pieces;
* the forward pass is BERT's (post-LayerNorm, exact-erf GELU), then mean pooling and L2
  normalisation, in float32.

``supports(path)`` says whether a model directory is of this shape (a sentence-transformers
Transformer → mean Pooling → Normalize over a BertModel with a Unigram tokenizer); any other
model is served by sentence-transformers (retrieval.encoder_cache). tests/retrieval/
test_lean_encoder.py checks token ids against tokenizers and vectors against sentence-transformers.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

BATCH_TOKENS = 2048  # padded tokens per forward pass: attention scores stay ~50 MB
# Up to this many tokens (a query or two) a forward pass runs on one BLAS thread: its matrices
# are ~20×384, so OpenBLAS's second thread mostly waits for the first, and on a loaded 2-core
# machine (concurrent requests, Rasa) the waiting threads took a single query from ~110 ms to
# ~340 ms median, 1.7 s p95 (bench/search_api_bench.py shows the API figures).
ONE_THREAD_TOKENS = 128
UNK_PENALTY = 10.0  # tokenizers' K_UNK_PENALTY: an unknown character costs min score − 10


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def supports(path: str | Path) -> bool:
    """Whether ``path`` is a model directory this encoder computes exactly."""
    root = Path(path)
    try:
        modules = [m["type"].rsplit(".", 1)[-1] for m in _json(root / "modules.json")]
        pooling = _json(root / "1_Pooling" / "config.json")
        config = _json(root / "config.json")
        tokenizer = _json(root / "tokenizer.json")
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return (
        modules == ["Transformer", "Pooling", "Normalize"]
        and pooling.get("pooling_mode", "mean") == "mean"
        and config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and tokenizer["model"]["type"] == "Unigram"
        and not tokenizer["model"].get("byte_fallback")
        and (root / "model.safetensors").exists()
    )


class UnigramTokenizer:
    """``tokenizer.json`` of a SentencePiece-unigram model, encoded as tokenizers encodes it."""

    def __init__(self, path: Path, *, max_length: int) -> None:
        data = _json(path)
        model = data["model"]
        vocab = model["vocab"]
        self._ids = {piece: n for n, (piece, _) in enumerate(vocab)}
        self._scores = [float(score) for _, score in vocab]
        self._unk = int(model["unk_id"])
        self._unk_score = min(self._scores) - UNK_PENALTY
        self._longest = max(len(piece) for piece, _ in vocab)
        self._normalizer, self._pre_tokenizer = _pipeline(data)
        self._added = {t["content"]: int(t["id"]) for t in data["added_tokens"]}
        parts = [
            (r"\s*" if t.get("lstrip") else "") + re.escape(t["content"])
            for t in sorted(data["added_tokens"], key=lambda t: -len(t["content"]))
        ]
        self._added_pattern = re.compile("|".join(parts)) if parts else None
        template = data["post_processor"]["single"]
        specials = [item["SpecialToken"]["id"] for item in template if "SpecialToken" in item]
        self._bos, self._eos = self._added[specials[0]], self._added[specials[-1]]
        self._max_length = max_length

    def _segments(self, text: str) -> list[tuple[str, int | None]]:
        """The text split on the added tokens' literal strings (kept as their ids)."""
        if self._added_pattern is None:
            return [(text, None)]
        out: list[tuple[str, int | None]] = []
        at = 0
        for match in self._added_pattern.finditer(text):
            if match.start() > at:
                out.append((text[at : match.start()], None))
            out.append(("", self._added[match.group().lstrip()]))
            at = match.end()
        if at < len(text):
            out.append((text[at:], None))
        return out

    def _viterbi(self, word: str) -> list[int]:
        """tokenizers' ``Unigram::encode_optimized``: best path by summed score; candidates
        visited by start then length, a later one winning only when strictly better."""
        n = len(word)
        best = [0.0] * (n + 1)
        start: list[int | None] = [None] * (n + 1)
        piece_id = [0] * (n + 1)
        for i in range(n):
            here = best[i]
            single = False
            for end in range(i + 1, min(n, i + self._longest) + 1):
                found = self._ids.get(word[i:end])
                if found is None:
                    continue
                candidate = self._scores[found] + here
                if start[end] is None or candidate > best[end]:
                    best[end], start[end], piece_id[end] = candidate, i, found
                single = single or end == i + 1
            if not single:
                candidate = self._unk_score + here
                if start[i + 1] is None or candidate > best[i + 1]:
                    best[i + 1], start[i + 1], piece_id[i + 1] = candidate, i, self._unk
        pieces: list[str] = []
        unknown: list[str] = []
        end = n
        while end > 0:
            begin = start[end]
            assert begin is not None
            if piece_id[end] == self._unk:
                unknown.append(word[begin:end])
            else:
                if unknown:
                    pieces.append("".join(reversed(unknown)))
                    unknown = []
                pieces.append(word[begin:end])
            end = begin
        if unknown:
            pieces.append("".join(reversed(unknown)))
        return [self._ids.get(piece, self._unk) for piece in reversed(pieces)]

    def encode(self, text: str) -> list[int]:
        """Token ids with ``<s>`` … ``</s>``, truncated to ``max_length`` as tokenizers does."""
        ids: list[int] = []
        for segment, added in self._segments(text):
            if added is not None:
                ids.append(added)
                continue
            normalized = self._normalizer.normalize_str(segment)
            for word, _ in self._pre_tokenizer.pre_tokenize_str(normalized):
                ids += self._viterbi(word)
        return [self._bos, *ids[: self._max_length - 2], self._eos]


def _pipeline(data: dict[str, Any]) -> tuple[Any, Any]:
    """tokenizers' own normalizer and pre-tokenizer of ``data`` (a tokenizer.json), loaded
    beside a one-word model instead of the 250k-piece one."""
    from tokenizers import Tokenizer

    shell = {
        key: data.get(key)
        for key in ("version", "normalizer", "pre_tokenizer", "post_processor", "decoder")
    }
    shell.update(
        truncation=None,
        padding=None,
        added_tokens=[],
        model={"type": "WordLevel", "vocab": {"<unk>": 0}, "unk_token": "<unk>"},
    )
    tokenizer = Tokenizer.from_str(json.dumps(shell))
    return tokenizer.normalizer, tokenizer.pre_tokenizer


def _safetensors(path: Path) -> dict[str, np.ndarray]:
    """Read-only arrays over the file's pages (nothing is copied or read ahead)."""
    with path.open("rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(size))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        if spec["dtype"] != "F32":
            raise ValueError(f"{path.name}: {name} is {spec['dtype']}, float32 expected")
        begin, end = spec["data_offsets"]
        tensors[name] = data[begin:end].view(np.float32).reshape(spec["shape"])
    return tensors


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    variance = (centered * centered).mean(axis=-1, keepdims=True)
    return centered / np.sqrt(variance + eps) * weight + bias  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS on one thread meanwhile (process-wide: a batch encoding in another thread at the
    same moment is slower for that while, never wrong)."""
    with _blas().limit(limits=1):
        yield


class LeanBertEncoder:
    """``Encoder`` for a BERT sentence-transformers directory, in numpy (see the module)."""

    def __init__(
        self, model: str, *, query_prefix: str = "", passage_prefix: str = "", batch_size: int = 32
    ) -> None:
        from scipy.special import erf  # scipy is loaded already (bm25s); exact like torch's

        root = Path(model)
        config = _json(root / "config.json")
        st_config = _json(root / "sentence_bert_config.json")
        self.name = model
        self.dimension = int(config["hidden_size"])
        self._heads = int(config["num_attention_heads"])
        self._layers = int(config["num_hidden_layers"])
        self._eps = float(config["layer_norm_eps"])
        max_length = min(
            int(st_config.get("max_seq_length", 512)), config["max_position_embeddings"]
        )
        self._tokenizer = UnigramTokenizer(root / "tokenizer.json", max_length=max_length)
        self._pad = int(config.get("pad_token_id") or 0)
        self._w = _safetensors(root / "model.safetensors")
        prefix = "" if "embeddings.word_embeddings.weight" in self._w else "bert."
        self._w = {k.removeprefix(prefix): v for k, v in self._w.items()}
        self._erf = erf
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._batch_size = batch_size

    def _gelu(self, x: np.ndarray) -> np.ndarray:
        return 0.5 * x * (1.0 + self._erf(x * np.float32(1 / math.sqrt(2))))  # type: ignore[no-any-return]

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        w, heads = self._w, self._heads
        length = max(len(ids) for ids in batch)
        ids = np.full((len(batch), length), self._pad, dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, tokens in enumerate(batch):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1.0
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(
            x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self._eps
        )
        size = x.shape[-1] // heads
        blocked = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1 / math.sqrt(size))
        for n in range(self._layers):
            p = f"encoder.layer.{n}."

            def dense(h: np.ndarray, name: str, p: str = p) -> np.ndarray:
                return h @ w[p + name + ".weight"].T + w[p + name + ".bias"]  # type: ignore[no-any-return]

            def split(h: np.ndarray) -> np.ndarray:
                return h.reshape(len(batch), length, heads, size).transpose(0, 2, 1, 3)

            q = split(dense(x, "attention.self.query"))
            k = split(dense(x, "attention.self.key"))
            v = split(dense(x, "attention.self.value"))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + blocked
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(len(batch), length, -1)
            x = _layer_norm(
                x + dense(context, "attention.output.dense"),
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self._eps,
            )
            hidden = self._gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(
                x + dense(hidden, "output.dense"),
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self._eps,
            )
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)[:, None]
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32)

    def token_ids(self, text: str) -> list[int]:
        return self._tokenizer.encode(text)

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        tokens = [self._tokenizer.encode(t) for t in texts]
        small = sum(len(t) for t in tokens) <= ONE_THREAD_TOKENS
        with one_blas_thread() if small else nullcontext():
            return self._encode_tokens(tokens)

    def _encode_tokens(self, tokens: list[list[int]]) -> np.ndarray:
        order = sorted(range(len(tokens)), key=lambda i: len(tokens[i]))  # little padding
        out = np.zeros((len(tokens), self.dimension), dtype=np.float32)
        rows: list[int] = []
        for i in order:  # batches of at most batch_size texts and BATCH_TOKENS padded tokens
            if rows and (len(rows) + 1) * len(tokens[i]) > max(BATCH_TOKENS, len(tokens[i])):
                out[rows] = self._forward([tokens[r] for r in rows])
                rows = []
            rows.append(i)
            if len(rows) == self._batch_size:
                out[rows] = self._forward([tokens[r] for r in rows])
                rows = []
        if rows:
            out[rows] = self._forward([tokens[r] for r in rows])
        return np.ascontiguousarray(out)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode([self._query_prefix + t for t in texts])

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode([self._passage_prefix + t for t in texts])
