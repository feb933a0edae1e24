"""``GET /health``: 200 while the app is up (DESIGN §4), with the state of each part it needs.

Each check has a short timeout and they run together, so the answer comes within about a second
even when a part hangs. ``status`` is ``ok`` when every part is, else ``degraded``.
"""

import asyncio
import time
from typing import Any

import httpx
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from app.settings import AppSettings
from desk.db import get_sessionmaker
from retrieval.index import current_version

TIMEOUT_S = 1.0
Part = dict[str, Any]


async def _timed(check: Any) -> Part:
    started = time.perf_counter()
    try:
        part: Part = await asyncio.wait_for(check, TIMEOUT_S)
    except Exception as exc:  # down, refused, timed out: reported, never raised
        part = {"status": "down", "error": type(exc).__name__}
    part.setdefault("status", "ok")
    part["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return part


def _database(url: str) -> Part:
    with get_sessionmaker(url)() as session:
        session.execute(text("SELECT 1"))
    return {"dialect": url.split(":", 1)[0].split("+", 1)[0]}


async def _redis(url: str) -> Part:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)
    try:
        await client.ping()
    finally:
        await client.aclose()
    return {}


async def _http(client: httpx.AsyncClient, url: str) -> Part:
    response = await client.get(url)
    return {} if response.status_code == 200 else {"status": "down", "http": response.status_code}


async def _actions(client: httpx.AsyncClient, url: str) -> Part:
    """The action server: up, and whether its model and index are loaded yet (``warming``)."""
    response = await client.get(url)
    if response.status_code != 200:
        return {"status": "down", "http": response.status_code}
    try:
        said = response.json().get("status")
    except (ValueError, AttributeError):
        said = None
    return {"status": said} if said in {"warming", "failed"} else {}


async def _rasa(client: httpx.AsyncClient, servers: list[str]) -> Part:
    """Every Rasa server the app sends turns to; down only when none answers."""
    if len(servers) == 1:
        return await _http(client, f"{servers[0]}/")
    results = await asyncio.gather(
        *(_http(client, f"{url}/") for url in servers), return_exceptions=True
    )
    states = {
        url: "down" if isinstance(r, BaseException) else r.get("status", "ok")
        for url, r in zip(servers, results, strict=True)
    }
    up = sum(state == "ok" for state in states.values())
    status = "ok" if up == len(servers) else "degraded" if up else "down"
    return {"status": status, "servers": states}


async def report(settings: AppSettings, *, channels: bool) -> dict[str, Any]:
    assert settings.database_url is not None
    checks: dict[str, Any] = {"database": run_in_threadpool(_database, settings.database_url)}
    if settings.redis_url:
        checks["redis"] = _redis(settings.redis_url)
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
        if channels:
            checks["rasa"] = _rasa(client, settings.rasa_servers)
            checks["actions"] = _actions(client, f"{settings.actions_url}/health")
        names = list(checks)
        results = await asyncio.gather(*(_timed(checks[name]) for name in names))
    parts: dict[str, Part] = dict(zip(names, results, strict=True))
    version = current_version(settings.retrieval.index_dir)
    parts["index"] = {"status": "ok", "version": version} if version else {"status": "missing"}
    if not settings.redis_url:
        parts["redis"] = {"status": "off"}
    healthy = all(p["status"] in {"ok", "off"} for p in parts.values())
    return {"status": "ok" if healthy else "degraded", "parts": parts}
