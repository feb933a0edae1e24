"""Vectors of recent queries, so a query asked again is not encoded again.

Keyed by the encoder's name and the normalised query text (the e5 model is deterministic), a
bounded LRU shared by every index version of the process (a new version keeps the model).
``QCLINIC_QUERY_CACHE_SIZE`` sets its size; 0 turns it off. bench/search_api_bench.py reports
cold queries (never asked before) and warm ones (asked again) apart.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from retrieval.encoder import Encoder


class QueryVectors:
    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self.hits = self.misses = 0

    def vector(self, encoder: Encoder, query: str) -> np.ndarray:
        """The query's vector from the cache, else from the encoder (then kept)."""
        key = (encoder.name, query)
        with self._lock:
            found = self._vectors.get(key)
            if found is not None:
                self._vectors.move_to_end(key)
                self.hits += 1
                return found
        vector = encoder.encode_queries([query])[0]
        vector.setflags(write=False)  # shared between requests: nobody may change it
        with self._lock:
            self.misses += 1
            if self.size > 0:
                self._vectors[key] = vector
                self._vectors.move_to_end(key)
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        return vector

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()
            self.hits = self.misses = 0
