"""A fast, deterministic stand-in encoder for index lifecycle tests (no model needed)."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np


class HashEncoder:
    """Character bigrams hashed into 4096 dimensions, L2-normalised: equal texts score 1."""

    name = "hash-bigrams"
    dimension = 4096

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for a, b in itertools.pairwise(text):
                digest = hashlib.blake2b((a + b).encode(), digest_size=2).digest()
                out[row, int.from_bytes(digest, "big") % self.dimension] += 1.0
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-6)
        return out

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)
