"""A turn Rasa dropped is not a turn answered (channels/gateway.py): Rasa's REST channel answers
200 with no messages when the turn failed inside it (its Redis lock store or its tracker database
away), so an empty answer is checked in the conversation's tracker."""

import json
from typing import Any

import httpx
import pytest

from channels.gateway import (
    TURN_FAILED,
    TURN_KEY,
    BotUnavailable,
    RasaGateway,
    replies_in_tracker,
)


def gateway(
    *,
    reply: list[dict[str, Any]],
    events: list[dict[str, Any]] | None,
    seen: list[str],
    actions: list[int] | None = None,
) -> RasaGateway:
    """A Rasa (and an action server answering ``actions``' statuses in turn, 200 when none)."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/health":
            return httpx.Response(actions.pop(0) if actions else 200)
        if request.url.path == "/webhooks/rest/webhook":
            assert json.loads(request.content)["metadata"] == {TURN_KEY: "k1"}
            return httpx.Response(200, json=reply)
        if request.url.path.endswith("/tracker/events"):
            seen.append(json.dumps(json.loads(request.content)))
            return httpx.Response(200, json={})
        if events is None:  # the tracker cannot be read either
            return httpx.Response(500, text="Internal Server Error")
        return httpx.Response(200, json={"events": events})

    return RasaGateway(
        "http://rasa.test",
        timeout_s=5,
        token="t",
        actions_url="http://actions.test" if actions is not None else None,
        transport=httpx.MockTransport(handle),
    )


def user(key: str) -> dict[str, Any]:
    return {"event": "user", "text": "你好", "metadata": {TURN_KEY: key}}


async def test_an_empty_answer_for_a_turn_rasa_never_took_is_the_bot_unavailable() -> None:
    seen: list[str] = []
    bot = gateway(reply=[], events=[user("k0"), {"event": "bot", "text": "您好"}], seen=seen)
    with pytest.raises(BotUnavailable) as caught:
        await bot.turn("web:abc123", "你好", key="k1")
    assert caught.value.uncertain is False  # not taken: sent again at the next retry
    assert seen == ["POST /webhooks/rest/webhook", "GET /conversations/web:abc123/tracker"]


async def test_a_turn_rasa_took_without_a_word_is_answered_with_nothing() -> None:
    seen: list[str] = []
    bot = gateway(reply=[], events=[user("k1"), {"event": "action", "name": "x"}], seen=seen)
    assert await bot.turn("web:abc123", "你好", key="k1") == []


async def test_an_empty_answer_and_no_tracker_may_have_run() -> None:
    seen: list[str] = []
    bot = gateway(reply=[], events=None, seen=seen)
    with pytest.raises(BotUnavailable) as caught:
        await bot.turn("web:abc123", "你好", key="k1")
    assert caught.value.uncertain is True  # looked up in the tracker before any second try


async def test_an_answer_with_messages_needs_no_look_up() -> None:
    seen: list[str] = []
    bot = gateway(reply=[{"recipient_id": "web:abc123", "text": "您好"}], events=[], seen=seen)
    [message] = await bot.turn("web:abc123", "你好", key="k1")
    assert message.text == "您好"
    assert seen == ["POST /webhooks/rest/webhook"]


async def test_a_silent_turn_is_not_undone_when_the_action_server_is_away_after_it() -> None:
    """Rasa never saves a turn whose actions it could not reach (bot/server/patches.py): a saved
    turn without replies ran whole, and undoing it would take back more than the turn (inside a
    form, the whole form)."""
    seen: list[str] = []
    taken = [user("k1"), {"event": "action", "name": "need_form"}]
    bot = gateway(reply=[], events=taken, seen=seen, actions=[200, 503])  # gone after the turn
    assert await bot.turn("web:abc123", "江阴市周庄镇", key="k1") == []
    assert [s for s in seen if "/tracker/events" in s] == []  # nothing appended
    assert "GET /health" not in seen[1:]  # the answer needed no second look at the action server


def test_the_tracker_tells_the_last_sending_of_a_turn_and_an_undone_one() -> None:
    bot = {"event": "bot", "text": "请问在哪里？"}
    fallback = {"event": "bot", "text": "抱歉，我没有听懂。"}
    rewind = {"event": "rewind"}
    assert replies_in_tracker([user("k1"), rewind], "k1") is None  # undone: never answered
    [again] = replies_in_tracker([user("k1"), rewind, user("k1"), bot], "k1") or []
    assert again.text == "请问在哪里？"
    [said] = replies_in_tracker([user("k1"), fallback, rewind, user("k2")], "k1") or []
    assert said.text == "抱歉，我没有听懂。"  # Rasa's fallback reverts after answering


async def test_a_turn_marked_failed_by_rasa_is_kept_and_nothing_undone() -> None:
    """Rasa did not save a turn it marks failed (bot/server/patches.py): the conversation is as
    before the message, and a rewind would take back the turn before it (inside a form, the
    whole form)."""
    seen: list[str] = []
    said = [
        {"recipient_id": "web:abc123", "text": "好的，正在为您提交"},
        {"recipient_id": "web:abc123", "custom": {TURN_FAILED: "action_complete_need"}},
    ]
    bot = gateway(reply=said, events=[], seen=seen)
    with pytest.raises(BotUnavailable) as caught:
        await bot.turn("web:abc123", "好的", key="k1")
    assert caught.value.uncertain is False  # sent again, the partial answer never shown
    assert [s for s in seen if "/tracker/events" in s] == []  # no undo appended
