"""An encoder that asks the process holding the model for embeddings (the app's
``POST /api/embeddings``), so a second process needs neither torch nor the model in memory.

The action server uses it when ``QCLINIC_EMBEDDING_URL`` is set (app.stack sets it): the FAISS
and BM25 indexes stay local, only the query vector travels (384 floats). The serving process
adds the e5 prefixes itself, so both processes rank with the very same vectors.

When the app does not answer (it is restarting, say) an encode raises ``EncoderUnavailable``
after one quick retry, well within a chat turn's deadline; callers degrade with a clear message.
Query texts are never logged (they may hold personal data).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Literal

import httpx
import numpy as np

Kind = Literal["query", "passage"]
CACHE_SIZE = 512  # recent query vectors: a recommendation searches services and institutions


class EncoderUnavailable(RuntimeError):
    """The process that serves embeddings gave no usable answer (down, restarting, refusing)."""


class RemoteEncoder:
    """``Encoder`` over HTTP; ``name`` and ``dimension`` are the serving model's."""

    def __init__(
        self,
        url: str,
        *,
        token: str,
        timeout_s: float = 3.0,
        retry_delay_s: float = 0.3,
        client: httpx.Client | None = None,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self._url = url
        self._headers = {"Authorization": f"Bearer {token}"}
        self._retry_delay_s = retry_delay_s
        self._client = client or httpx.Client(timeout=timeout_s)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._model: tuple[str, int] | None = None

    @property
    def name(self) -> str:
        return self._describe()[0]

    @property
    def dimension(self) -> int:
        return self._describe()[1]

    def _describe(self) -> tuple[str, int]:
        if self._model is None:
            self._request("query", [])
        assert self._model is not None
        return self._model

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        """One retry on a refused or broken connection (the app between two lives); a timeout
        is not retried, so a slow app costs one timeout, not two."""
        try:
            return self._client.post(self._url, json=body, headers=self._headers)
        except httpx.TimeoutException as exc:
            raise EncoderUnavailable(f"no answer within the timeout from {self._url}") from exc
        except httpx.TransportError:
            time.sleep(self._retry_delay_s)
        try:
            return self._client.post(self._url, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise EncoderUnavailable(f"{type(exc).__name__} on {self._url}") from exc

    def _request(self, kind: Kind, texts: list[str]) -> np.ndarray:
        response = self._post({"kind": kind, "texts": texts})
        if response.status_code != 200:
            raise EncoderUnavailable(f"{self._url} answered {response.status_code}")
        try:
            data = response.json()
            model, dimension = str(data["model"]), int(data["dimension"])
            vectors = np.asarray(data["vectors"], dtype=np.float32).reshape(-1, dimension)
        except (ValueError, KeyError, TypeError) as exc:
            raise EncoderUnavailable(f"{self._url} gave an answer that is not embeddings") from exc
        if len(vectors) != len(texts):
            raise EncoderUnavailable(f"{self._url} gave {len(vectors)} vectors for {len(texts)}")
        self._model = (model, dimension)
        return np.ascontiguousarray(vectors)

    def _encode(self, kind: Kind, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        keys = [f"{kind}\n{text}" for text in texts]
        with self._lock:
            known = {k: self._cache[k] for k in keys if k in self._cache}
            for key in known:
                self._cache.move_to_end(key)
        missing = list(dict.fromkeys(k for k in keys if k not in known))
        if missing:
            fresh = self._request(kind, [k.split("\n", 1)[1] for k in missing])
            known.update(zip(missing, fresh, strict=True))
            if kind == "query":  # passages are encoded once, by the publishing process
                with self._lock:
                    self._cache.update(zip(missing, fresh, strict=True))
                    while len(self._cache) > self._cache_size:
                        self._cache.popitem(last=False)
        return np.stack([known[k] for k in keys])

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode("query", texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode("passage", texts)
