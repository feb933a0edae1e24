"""/health reports each part and stays 200 while the app is up; /metrics counts per route and
per channel in Prometheus' text format."""

import secrets

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.channels.conftest import LiveFactory
from tests.channels.wechat_calls import text_xml
from tests.support import free_port


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_health_names_every_part_and_a_part_down_makes_it_degraded_not_down(
    live: LiveFactory,
) -> None:
    app = live()
    body = httpx.get(f"{app.url}/health").json()
    assert body["status"] == "ok"
    parts = body["parts"]
    assert {n: p["status"] for n, p in parts.items()} == {
        "database": "ok",
        "rasa": "ok",
        "actions": "ok",
        "redis": "off",
        "index": parts["index"]["status"],
    }
    assert parts["database"]["dialect"] == "sqlite"

    app.rasa_down()
    down = httpx.get(f"{app.url}/health", timeout=5)
    assert down.status_code == 200  # the app itself is up (DESIGN §4)
    assert down.json()["status"] == "degraded"
    assert down.json()["parts"]["rasa"] == {
        "status": "down",
        "error": "ConnectError",
        "ms": down.json()["parts"]["rasa"]["ms"],
    }


def test_health_says_the_action_server_is_still_loading_its_model(live: LiveFactory) -> None:
    app = live()
    app.rasa.actions_state = "warming"
    body = httpx.get(f"{app.url}/health", timeout=5).json()
    assert body["parts"]["actions"]["status"] == "warming" and body["status"] == "degraded"
    app.rasa.actions_state = "ok"
    assert httpx.get(f"{app.url}/health", timeout=5).json()["status"] == "ok"


def test_health_checks_redis_when_configured(live: LiveFactory) -> None:
    up = live(redis_url="redis://127.0.0.1:6379/0")
    assert httpx.get(f"{up.url}/health").json()["parts"]["redis"]["status"] == "ok"
    away = live(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    body = httpx.get(f"{away.url}/health", timeout=5).json()
    assert body["parts"]["redis"]["status"] == "down" and body["status"] == "degraded"


def test_metrics_count_routes_by_template_and_turns_by_channel(live: LiveFactory) -> None:
    app = live()
    before = samples(httpx.get(f"{app.url}/metrics").text)
    conversation = "web:" + secrets.token_hex(8)
    for text in ("你好", "检测"):
        httpx.post(
            f"{app.url}/api/chat/messages",
            json={"conversation_id": conversation, "text": text},
            timeout=10,
        )
    app.platform.reply(app.platform.post(text_xml("o" + secrets.token_urlsafe(20), "你好")))
    httpx.get(f"{app.url}/api/demands/XQ20260101-0001")  # a path parameter, not a label
    after = samples(httpx.get(f"{app.url}/metrics").text)

    def grew(name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("qclinic_chat_messages_total", channel="web", outcome="replied") == 2
    assert grew("qclinic_chat_messages_total", channel="wechat", outcome="replied") == 1
    assert grew("qclinic_chat_turn_seconds_count", channel="web") == 2
    assert (
        grew("qclinic_http_requests_total", route="/api/chat/messages", method="POST", status="200")
        == 2
    )
    demand_routes = [labels for (name, labels) in after if name == "qclinic_http_requests_total"]
    assert any(("route", "/api/demands/{number}") in labels for labels in demand_routes)
    assert not any("XQ2026" in value for labels in demand_routes for _, value in labels)
