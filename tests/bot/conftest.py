"""The desk as the actions see it, replaced per test by a handler (httpx.MockTransport)."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.actions import desk_client, settings

Handler = Callable[[httpx.Request], httpx.Response]


class FakeDesk:
    """Answers the actions' requests with `routes` ((method, path) → handler or JSON) and
    records them."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], Any] = {}
        self.default: Handler | None = None  # answers every route not in `routes`

    def on(self, method: str, path: str, answer: Any, status: int = 200) -> None:
        if callable(answer):
            self.routes[(method, path)] = answer
        else:
            self.routes[(method, path)] = lambda request: httpx.Response(status, json=answer)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get((request.method, request.url.path), self.default)
        if handler is None:
            return httpx.Response(404, json={"detail": {"code": "not_found", "message": "无"}})
        return handler(request)  # type: ignore[no-any-return]

    def bodies(self, method: str, path: str) -> list[Any]:
        return [
            json.loads(r.content)
            for r in self.requests
            if r.method == method and r.url.path == path
        ]


@pytest.fixture
def fake_desk(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDesk]:
    test_settings = settings.ActionSettings(
        service_token=SecretStr("bot-test-token"), desk_timeout_s=1
    )
    monkeypatch.setattr(settings, "get_settings", lambda: test_settings)
    fake = FakeDesk()
    client = httpx.AsyncClient(base_url="http://desk.test", transport=httpx.MockTransport(fake))
    monkeypatch.setattr(desk_client, "get_desk_client", lambda: client)
    yield fake


@pytest.fixture
def desk_with(fake_desk: FakeDesk) -> Callable[[Handler], list[httpx.Request]]:
    """Every request answered by one `handler`; returns the requests seen."""

    def install(handler: Handler) -> list[httpx.Request]:
        fake_desk.default = handler
        return fake_desk.requests

    return install
