"""The bot's client of the desk API: one lazily built HTTP client, typed GET and POST.

Named apart from the `desk` package, which the bot never imports: the contract between the two
is HTTP (tested against the real desk app in tests/bot/test_desk_client.py)."""

import asyncio
import logging
import time
from functools import lru_cache
from typing import Any

import httpx
from pydantic import ValidationError

from bot.actions import settings as action_settings

logger = logging.getLogger(__name__)
DATABASE_AWAY = "database_unavailable"  # the desk's code for a 503 while its database restarts


class DeskClientError(Exception):
    """The desk did not accept a request; `code` is machine-readable, `message` for logs."""

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@lru_cache(maxsize=1)
def get_desk_client() -> httpx.AsyncClient:
    """The shared client of the desk API, built on first use (tests replace this factory)."""
    settings = action_settings.get_settings()
    return httpx.AsyncClient(base_url=settings.desk_url, timeout=settings.desk_timeout_s)


def _error_from(response: httpx.Response) -> DeskClientError:
    code, message = f"http_{response.status_code}", response.reason_phrase
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, dict):
        code = str(detail.get("code") or code)
        message = str(detail.get("message") or message)
    elif isinstance(detail, str):
        message = detail
    return DeskClientError(code, message, status=response.status_code)


RETRY_PAUSE_S = 0.5
REPLICA_GONE = frozenset({502, 504})  # nginx: the app replica died or was unreachable
NO_REPLICA = "unavailable"  # nginx's own 503 (app/deploy/nginx.conf.template): no replica left


def _replica_gone(response: httpx.Response) -> bool:
    """nginx's answer for an app replica that went away; the app's own 503s are not this."""
    if response.status_code in REPLICA_GONE:
        return True
    if response.status_code != 503:
        return False
    try:
        detail = response.json().get("detail")
    except ValueError:
        return False
    return isinstance(detail, dict) and detail.get("code") == NO_REPLICA


async def _send(
    method: str,
    path: str,
    *,
    body: dict[str, Any] | None,
    params: dict[str, str] | None,
    headers: dict[str, str],
) -> httpx.Response:
    """One request; sent a second time when the app replica behind nginx went away while it
    was on it, but only when that is safe: a GET, or a POST with an Idempotency-Key (the desk
    answers the second with what the first did)."""
    safe = method == "GET" or "Idempotency-Key" in headers
    client = get_desk_client()
    try:
        response = await client.request(method, path, json=body, params=params, headers=headers)
    except httpx.TransportError as exc:
        if not safe or isinstance(exc, httpx.TimeoutException):  # slow, not gone: no second wait
            raise
        logger.warning("desk request failed, trying once more path=%s error=%r", path, exc)
    else:
        if not safe or not _replica_gone(response):
            return response
        logger.warning(
            "desk replica gone, trying once more path=%s status=%s", path, response.status_code
        )
    await asyncio.sleep(RETRY_PAUSE_S)
    return await client.request(method, path, json=body, params=params, headers=headers)


async def _request(
    method: str,
    path: str,
    *,
    body: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
    idempotency_key: str | None = None,
) -> Any:
    """One request; a 503 ``database_unavailable`` (the desk's database away for a moment: a
    restart) is sent again with backoff for up to ``desk_retry_s`` when that is safe: reads, and
    writes with an idempotency key. Any other error is the caller's at once."""
    try:
        settings = action_settings.get_settings()
    except ValidationError as exc:
        raise DeskClientError("settings", "action server settings are incomplete") from exc
    give_up = time.monotonic() + settings.desk_retry_s
    pause = 0.25
    while True:
        try:
            return await _request_once(method, path, body, params, idempotency_key)
        except DeskClientError as exc:
            again = method == "GET" or idempotency_key is not None
            away = exc.status == 503 and exc.code == DATABASE_AWAY
            if not away or not again or time.monotonic() + pause > give_up:
                raise
            logger.warning("desk unavailable on %s, trying again in %.1fs", path, pause)
        await asyncio.sleep(pause)
        pause = min(2 * pause, 2.0)


async def _request_once(
    method: str,
    path: str,
    body: dict[str, Any] | None,
    params: dict[str, str] | None,
    idempotency_key: str | None,
) -> Any:
    settings = action_settings.get_settings()
    headers = {"Authorization": f"Bearer {settings.service_token.get_secret_value()}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    try:
        response = await _send(method, path, body=body, params=params, headers=headers)
    except httpx.TimeoutException as exc:
        raise DeskClientError(
            "timeout", f"no answer from the desk within the timeout ({path})"
        ) from exc
    except httpx.HTTPError as exc:
        raise DeskClientError("unreachable", f"{type(exc).__name__} on {path}") from exc
    if response.status_code not in (200, 201):
        raise _error_from(response)
    try:
        data = response.json()
    except ValueError as exc:
        raise DeskClientError("bad_response", f"desk answered {path} with non-JSON") from exc
    return data


def _expect(data: Any, kind: type, path: str) -> Any:
    if not isinstance(data, kind):
        raise DeskClientError("bad_response", f"desk answered {path} with {type(data).__name__}")
    return data


async def post_json(
    path: str,
    body: dict[str, Any],
    *,
    idempotency_key: str | None = None,
    params: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST `body` to the desk as the bot's service; the JSON answer, or DeskClientError."""
    data = await _request("POST", path, body=body, params=params, idempotency_key=idempotency_key)
    return _expect(data, dict, path)  # type: ignore[no-any-return]


async def get_json(path: str, *, params: dict[str, str] | None = None) -> dict[str, Any]:
    """GET a JSON object from the desk as the bot's service, or DeskClientError."""
    return _expect(await _request("GET", path, params=params), dict, path)  # type: ignore[no-any-return]


async def get_list(path: str, *, params: dict[str, str] | None = None) -> list[Any]:
    """GET a JSON list from the desk (e.g. a timeline) as the bot's service, or DeskClientError."""
    return _expect(await _request("GET", path, params=params), list, path)  # type: ignore[no-any-return]


async def patch_json(
    path: str, body: dict[str, Any], *, params: dict[str, str] | None = None
) -> dict[str, Any]:
    """PATCH `body` on the desk as the bot's service (what an upload is), or DeskClientError."""
    data = await _request("PATCH", path, body=body, params=params)
    return _expect(data, dict, path)  # type: ignore[no-any-return]
