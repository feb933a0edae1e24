"""The desk as the actions see it, replaced per test by a handler (httpx.MockTransport), and the
escalation's domain search kept off the real index unless a test asks for it."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.actions import desk_client, handoff_context, settings

Handler = Callable[[httpx.Request], httpx.Response]

# The desk's EscalationCreate (desk/escalations/schemas.py), as the double checks it.
ESCALATION_DOMAINS = {
    "metrology", "standardization", "certification", "testing", "quality", "ip", "other"
}  # fmt: skip
ESCALATION_FIELDS = {
    "conversation_id", "reason", "summary", "channel", "domain", "need", "enterprise"
}  # fmt: skip
ESCALATION_ENTERPRISE_MAX = 100


def escalation_problems(body: dict[str, Any]) -> list[str]:
    """Why the desk would refuse or misread an escalation body; empty when it would not."""
    problems = [f"unknown field {name}" for name in sorted(set(body) - ESCALATION_FIELDS)]
    if body.get("domain") is not None and body["domain"] not in ESCALATION_DOMAINS:
        problems.append(f"domain {body['domain']!r}")
    need = body.get("need")
    if need is not None and not (
        isinstance(need, dict) and all(isinstance(v, str) for v in need.values())
    ):
        problems.append("need is not a dict of texts")
    enterprise = body.get("enterprise")
    if enterprise is not None and len(str(enterprise)) > ESCALATION_ENTERPRISE_MAX:
        problems.append("enterprise too long")
    return problems


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
        if (request.method, request.url.path) == ("POST", "/api/escalations"):
            problems = escalation_problems(json.loads(request.content))
            if problems:
                return httpx.Response(422, json={"detail": problems})
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
        service_token=SecretStr("bot-test-token"), desk_timeout_s=1, desk_retry_s=0.5
    )  # a desk away is asked once more (after 0.25 s), then the action gives up
    monkeypatch.setattr(settings, "get_settings", lambda: test_settings)
    fake = FakeDesk()
    client = httpx.AsyncClient(base_url="http://desk.test", transport=httpx.MockTransport(fake))
    monkeypatch.setattr(desk_client, "get_desk_client", lambda: client)
    yield fake


@pytest.fixture(autouse=True)
def no_domain_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """Escalations find no domain by search (no index loaded); tests of the search itself use
    the real index (tests/bot/test_actions_handoff.py)."""
    monkeypatch.setattr(handoff_context, "_match_domain_sync", lambda texts, settings: None)


@pytest.fixture
def desk_with(fake_desk: FakeDesk) -> Callable[[Handler], list[httpx.Request]]:
    """Every request answered by one `handler`; returns the requests seen."""

    def install(handler: Handler) -> list[httpx.Request]:
        fake_desk.default = handler
        return fake_desk.requests

    return install
