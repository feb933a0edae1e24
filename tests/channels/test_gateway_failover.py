"""Several Rasa servers: a conversation's home server first, the next one when it refuses."""

import httpx
import pytest

from channels.gateway import BotUnavailable, RasaGateway

SERVERS = ["http://127.0.0.1:5101", "http://127.0.0.1:5102"]


def gateway_with(handler: httpx.MockTransport) -> RasaGateway:
    gateway = RasaGateway(SERVERS, timeout_s=2.0, token="t")
    gateway._client = httpx.AsyncClient(transport=handler)
    return gateway


async def test_a_conversation_keeps_its_home_server_and_fails_over_when_it_refuses() -> None:
    down: set[str] = set()
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        base = f"{request.url.scheme}://{request.url.host}:{request.url.port}"
        seen.append(base)
        if base in down:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json=[{"recipient_id": "x", "text": f"来自 {base[-4:]}"}])

    gateway = gateway_with(httpx.MockTransport(handle))
    home = gateway.servers("web:home-0001")[0]
    for _ in range(3):
        [reply] = await gateway.turn("web:home-0001", "你好")
        assert reply.text == f"来自 {home[-4:]}"  # the tracker stays in one server's cache
    down.add(home)
    seen.clear()
    [reply] = await gateway.turn("web:home-0001", "还在吗")
    other = next(s for s in SERVERS if s != home)
    assert reply.text == f"来自 {other[-4:]}"
    assert seen == [home, other]  # refused, then the next one at once
    seen.clear()
    await gateway.turn("web:home-0001", "再问一句")
    assert seen == [other]  # the refusing one is set aside for a while
    await gateway.aclose()


async def test_every_server_refusing_is_bot_unavailable_and_certain() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    gateway = gateway_with(httpx.MockTransport(refuse))
    with pytest.raises(BotUnavailable) as caught:
        await gateway.turn("web:home-0002", "你好")
    assert caught.value.uncertain is False  # never reached: sent again without a look
    await gateway.aclose()


async def test_a_server_failing_after_it_took_the_turn_is_not_asked_again() -> None:
    seen: list[str] = []

    def broken(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url.port))
        return httpx.Response(502)

    gateway = gateway_with(httpx.MockTransport(broken))
    with pytest.raises(BotUnavailable) as caught:
        await gateway.turn("web:home-0003", "你好")
    assert caught.value.uncertain is True  # it may have run there: looked up later
    assert len(seen) == 1
    await gateway.aclose()
