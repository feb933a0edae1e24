"""WeChat's API through wechatpy's client: a shared access token, one refresh, timeouts.

* The token lives in wechatpy's session storage: ``RedisStorage`` when Redis is configured, so
  every app process uses the same token, else ``MemoryStorage``. It is kept 5 minutes shorter
  than WeChat's lifetime, so no process uses a token in its last minutes.
* Refreshing happens under a lock (Redis lock across processes, else a thread lock); whoever
  gets the lock second finds the new token in storage and does not fetch again (each fetch
  starts WeChat's 5-minute countdown on the previous token).
* An answer of 40001 / 40014 / 42001 (token invalid or expired) triggers one refresh and one
  retry; wechatpy's own ``auto_retry`` would retry without end and is off.
* Every HTTP call has a timeout (wechatpy's token fetch has none; the session adds it), and the
  base URL comes from ``QCLINIC_WECHAT_API_BASE`` (wechatpy hard-codes the token URL).
"""

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage
from wechatpy.session.memorystorage import MemoryStorage

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
TOKEN_MARGIN_S = 300


class WeChatApiError(Exception):
    """An error answer of WeChat's API, with WeChat's code."""

    def __init__(self, errcode: int | None, errmsg: str) -> None:
        super().__init__(f"wechat api error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class _TimeoutSession(requests.Session):
    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout_s
        return super().request(*args, **kwargs)


LockFactory = Callable[[], contextlib.AbstractContextManager[Any]]


def storage_and_lock(redis_url: str | None, app_id: str) -> tuple[SessionStorage, LockFactory]:
    if not redis_url:
        lock = threading.Lock()
        return MemoryStorage(), lambda: lock
    import redis
    from wechatpy.session.redisstorage import RedisStorage

    connection = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)

    @contextlib.contextmanager
    def redis_lock() -> Iterator[None]:
        lock = connection.lock(
            f"qclinic:wechat:{app_id}:token-lock", timeout=20, blocking_timeout=15
        )
        acquired = lock.acquire()
        try:
            yield
        finally:
            if acquired:
                with contextlib.suppress(Exception):
                    lock.release()

    return RedisStorage(connection, prefix="qclinic:wechat"), redis_lock


class ApiClient(WeChatClient):  # type: ignore[misc]
    expires_at: int | None = None  # when our own fetched token ends; None: the storage's

    def __init__(
        self,
        app_id: str,
        secret: str,
        *,
        api_base: str,
        timeout_s: float,
        storage: SessionStorage | None = None,
        lock: LockFactory | None = None,
    ) -> None:
        super().__init__(
            app_id, secret, session=storage or MemoryStorage(), timeout=timeout_s, auto_retry=False
        )
        self._http = _TimeoutSession(timeout_s)
        self.API_BASE_URL = api_base.rstrip("/") + "/cgi-bin/"
        self._token_url = self.API_BASE_URL + "token"
        own_lock = threading.Lock()
        self._lock: LockFactory = lock or (lambda: own_lock)

    def fetch_access_token(self) -> dict[str, Any]:
        response = self._http.get(
            self._token_url,
            params={
                "grant_type": "client_credential",
                "appid": self.appid,
                "secret": self.secret,
            },
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        if result.get("errcode"):
            raise WeChatApiError(int(result["errcode"]), str(result.get("errmsg", "")))
        lifetime = max(60, int(result.get("expires_in", 7200)) - TOKEN_MARGIN_S)
        self.session.set(self.access_token_key, result["access_token"], lifetime)
        self.expires_at = int(time.time()) + lifetime
        log.info("wechat access token fetched")
        return result

    def refresh(self, stale: str | None) -> str:
        """A token other than ``stale``: another process's fresh one, or a new fetch."""
        with self._lock():
            current = self.session.get(self.access_token_key)
            if current and current != stale:
                self.expires_at = None  # someone else's: its lifetime is the storage's
                return str(current)
            self.fetch_access_token()
            return str(self.session.get(self.access_token_key))

    @property
    def access_token(self) -> str:
        token = self.session.get(self.access_token_key)
        if token and (self.expires_at is None or self.expires_at - time.time() > 60):
            return str(token)
        return self.refresh(stale=token)

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        params = dict(kwargs.pop("params", None) or {})
        params["access_token"] = self.access_token
        try:
            return super()._request(method, url_or_endpoint, params=dict(params), **kwargs)
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise WeChatApiError(exc.errcode, str(exc.errmsg)) from exc
            log.info("wechat token refused (%s): refresh and retry once", exc.errcode)
            params["access_token"] = self.refresh(stale=params["access_token"])
        try:
            return super()._request(method, url_or_endpoint, params=dict(params), **kwargs)
        except WeChatClientException as exc:
            raise WeChatApiError(exc.errcode, str(exc.errmsg)) from exc

    def send_text(self, openid: str, content: str) -> None:
        """One customer-service text message (客服消息)."""
        self.message.send_text(openid, content)

    def create_menu(self, menu: dict[str, Any]) -> None:
        self.menu.create(menu)


@dataclass(frozen=True)
class Media:
    """A temporary media file (图片, 文件) fetched by its MediaId."""

    content: bytes
    filename: str | None
    content_type: str | None


_FILENAME = re.compile(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", re.IGNORECASE)


def get_media(client: ApiClient, media_id: str) -> Media:
    """``media/get`` with the shared access token (one refresh on a stale one); WeChat's error
    answers raise :class:`WeChatApiError`."""
    response = client.media.download(media_id)
    if not isinstance(response, requests.Response):  # JSON without errcode: not a file
        raise WeChatApiError(None, "media/get answered without a file")
    disposition = response.headers.get("Content-Disposition", "")
    match = _FILENAME.search(disposition)
    filename = unquote(match.group(1)) if match else None
    return Media(
        content=response.content,
        filename=filename,
        content_type=response.headers.get("Content-Type"),
    )
