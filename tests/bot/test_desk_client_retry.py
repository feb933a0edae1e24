"""The bot's desk client waits for a desk whose database is away for a moment (503), when the
request is safe to send again: a read, or a write with its idempotency key."""

import time

import httpx
import pytest
from pydantic import SecretStr

from bot.actions import desk_client, settings

AWAY = {"detail": {"code": "database_unavailable", "message": "系统正在恢复，请稍后重试。"}}


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A desk that answers 503 to the first two requests, then 201; the requests it saw."""
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.headers.get('Idempotency-Key')}")
        if len(seen) <= 2:
            return httpx.Response(503, json=AWAY, headers={"Retry-After": "5"})
        return httpx.Response(201, json={"number": "XQ20260601-0001"})

    test_settings = settings.ActionSettings(
        service_token=SecretStr("test-service-token"), desk_retry_s=3
    )
    client = httpx.AsyncClient(base_url="http://desk.test", transport=httpx.MockTransport(handle))
    monkeypatch.setattr(settings, "get_settings", lambda: test_settings)
    monkeypatch.setattr(desk_client, "get_desk_client", lambda: client)
    return seen


async def test_a_write_with_its_key_is_sent_again_until_the_desk_is_back(desk: list[str]) -> None:
    started = time.monotonic()
    data = await desk_client.post_json("/api/demands", {"x": 1}, idempotency_key="need:k1")
    assert data == {"number": "XQ20260601-0001"}
    assert desk == ["POST need:k1"] * 3  # the same key each time: one demand at most
    assert time.monotonic() - started < 2


async def test_a_write_without_a_key_is_not_sent_twice(desk: list[str]) -> None:
    with pytest.raises(desk_client.DeskClientError) as caught:
        await desk_client.post_json("/api/consents", {"x": 1})
    assert (caught.value.status, caught.value.code) == (503, "database_unavailable")
    assert desk == ["POST None"]


async def test_a_read_is_sent_again(desk: list[str]) -> None:
    assert await desk_client.get_json("/api/demands/XQ20260601-0001") == {
        "number": "XQ20260601-0001"
    }
    assert len(desk) == 3


async def test_the_desk_away_for_longer_is_an_error_after_the_wait(
    desk: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    short = settings.ActionSettings(service_token=SecretStr("test-service-token"), desk_retry_s=0.3)
    monkeypatch.setattr(settings, "get_settings", lambda: short)
    with pytest.raises(desk_client.DeskClientError) as caught:
        await desk_client.get_json("/api/demands/XQ20260601-0001")
    assert caught.value.status == 503
    assert len(desk) == 2  # 0.25 s, then no time left for a third


async def test_another_503_is_the_callers_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return httpx.Response(503, json={"detail": "down"})

    test_settings = settings.ActionSettings(service_token=SecretStr("test-service-token"))
    client = httpx.AsyncClient(base_url="http://desk.test", transport=httpx.MockTransport(handle))
    monkeypatch.setattr(settings, "get_settings", lambda: test_settings)
    monkeypatch.setattr(desk_client, "get_desk_client", lambda: client)
    with pytest.raises(desk_client.DeskClientError):
        await desk_client.get_json("/api/demands")
    assert seen == ["GET"]


@pytest.fixture
def replicas(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Behind nginx: the replica on the request dies (502), the next has none left (nginx's
    own 503), the connection is cut; then a replica answers."""
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.headers.get('Idempotency-Key')}")
        if len(seen) == 1:
            return httpx.Response(502, text="<html>502 Bad Gateway</html>")
        if len(seen) == 2:
            return httpx.Response(503, json={"detail": {"code": "unavailable", "message": "x"}})
        if len(seen) == 3:
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        return httpx.Response(201, json={"number": "XQ20260601-0002"})

    test_settings = settings.ActionSettings(
        service_token=SecretStr("test-service-token"), desk_retry_s=5
    )
    client = httpx.AsyncClient(base_url="http://desk.test", transport=httpx.MockTransport(handle))
    monkeypatch.setattr(settings, "get_settings", lambda: test_settings)
    monkeypatch.setattr(desk_client, "get_desk_client", lambda: client)
    return seen


async def test_a_replica_gone_is_the_same_policy_as_the_database_away(
    replicas: list[str],
) -> None:
    data = await desk_client.post_json("/api/demands", {"x": 1}, idempotency_key="need:k2")
    assert data == {"number": "XQ20260601-0002"}
    assert replicas == ["POST need:k2"] * 4  # the same key each time: one demand at most


async def test_a_replica_gone_under_a_write_without_a_key_is_the_callers(
    replicas: list[str],
) -> None:
    with pytest.raises(desk_client.DeskClientError) as caught:
        await desk_client.post_json("/api/consents", {"x": 1})
    assert caught.value.status == 502
    assert replicas == ["POST None"]


async def test_a_timeout_is_not_waited_for_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        raise httpx.ReadTimeout("slow", request=request)

    test_settings = settings.ActionSettings(service_token=SecretStr("test-service-token"))
    client = httpx.AsyncClient(base_url="http://desk.test", transport=httpx.MockTransport(handle))
    monkeypatch.setattr(settings, "get_settings", lambda: test_settings)
    monkeypatch.setattr(desk_client, "get_desk_client", lambda: client)
    with pytest.raises(desk_client.DeskClientError) as caught:
        await desk_client.get_json("/api/demands")
    assert caught.value.code == "timeout"
    assert seen == ["GET"]
