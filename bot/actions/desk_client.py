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


RETRY_FIRST_S, RETRY_MAX_S = 0.25, 2.0  # the pause before the first retry, doubling up to this
REPLICA_GONE = frozenset({502, 504})  # nginx: the app replica died or was unreachable
NO_REPLICA = "unavailable"  # nginx's own 503 (app/deploy/nginx.conf.template): no replica left
AWAY = frozenset({DATABASE_AWAY, NO_REPLICA})  # the 503 codes of a desk away for a moment


def _away(exc: DeskClientError) -> bool:
    """The desk away for a moment, as opposed to a request it refused: its database restarting
    (503 ``database_unavailable``), the app replica behind nginx gone (502/504, nginx's own 503)
    or the connection refused or cut. A timeout is not: slow is not gone, and no second wait."""
    if exc.code == "unreachable":
        return True
    return exc.status in REPLICA_GONE or (exc.status == 503 and exc.code in AWAY)


async def _request(
    method: str,
    path: str,
    *,
    body: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
    idempotency_key: str | None = None,
) -> Any:
    """One request, and one retry policy: a desk that is away for a moment (:func:`_away`) is
    asked again with backoff for up to ``desk_retry_s``, when that is safe — a read, or a write
    with an idempotency key (the desk answers the second with what the first did). Any other
    error is the caller's at once."""
    try:
        settings = action_settings.get_settings()
    except ValidationError as exc:
        raise DeskClientError("settings", "action server settings are incomplete") from exc
    safe = method == "GET" or idempotency_key is not None
    give_up = time.monotonic() + settings.desk_retry_s
    pause = RETRY_FIRST_S
    while True:
        try:
            return await _request_once(method, path, body, params, idempotency_key)
        except DeskClientError as exc:
            if not safe or not _away(exc) or time.monotonic() + pause > give_up:
                raise
            logger.warning("desk away (%s) on %s, trying again in %.1fs", exc.code, path, pause)
        await asyncio.sleep(pause)
        pause = min(2 * pause, RETRY_MAX_S)


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
        response = await get_desk_client().request(
            method, path, json=body, params=params, headers=headers
        )
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
