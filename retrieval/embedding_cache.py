"""Passage embeddings cached by content hash, so a re-index encodes only changed entries."""

import hashlib
from pathlib import Path

import numpy as np

from retrieval.encoder import Encoder


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def cache_file(root: Path, model: str) -> Path:
    return root / f"embeddings-{hashlib.sha256(model.encode()).hexdigest()[:16]}.npz"


def encode_passages_cached(
    encoder: Encoder, texts: list[str], path: Path
) -> tuple[np.ndarray, int]:
    """Return (vectors, how many were encoded now); unused cache entries are dropped."""
    cached: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path) as data:
            cached = {name: data[name] for name in data.files}
    keys = [_key(t) for t in texts]
    missing = sorted({k for k in keys if k not in cached})
    if missing:
        by_key = dict(zip(keys, texts, strict=True))
        fresh = encoder.encode_passages([by_key[k] for k in missing])
        cached.update(zip(missing, fresh, strict=True))
    vectors = np.stack([cached[k] for k in keys]) if keys else np.zeros((0, encoder.dimension))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **{k: cached[k] for k in set(keys)})  # type: ignore[arg-type]
    tmp.replace(path)
    return vectors.astype(np.float32), len(missing)
