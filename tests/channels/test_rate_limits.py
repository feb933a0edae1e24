"""Rate limits on incoming chat messages: per conversation, per WeChat follower, per address;
shared by replicas through Redis; never silencing the assistant when Redis is away."""

import secrets

import httpx
import pytest

from channels.rate_limits import MemoryCounter, RateLimits, RedisCounter
from tests.channels.conftest import LiveFactory
from tests.channels.wechat_calls import text_xml
from tests.support import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"


class Clock:
    def __init__(self, now: float = 1_000_040.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_a_conversation_over_its_limit_waits_for_the_next_minute() -> None:
    clock = Clock()  # 20 s into a minute
    limits = RateLimits(per_conversation=3, per_address=100, counter=MemoryCounter(), clock=clock)
    said = [await limits.message(conversation_id="web:a", address="10.0.0.1") for _ in range(4)]
    assert [d.allowed for d in said] == [True, True, True, False]
    assert said[-1].retry_after_s == 40
    assert said[-1].message == "您发送消息过于频繁，请稍候 40 秒再发送。"
    other = await limits.message(conversation_id="web:b", address="10.0.0.1")
    assert other.allowed  # another conversation is not held back
    clock.now += 40
    assert (await limits.message(conversation_id="web:a", address="10.0.0.1")).allowed


async def test_one_address_is_limited_across_its_conversations_and_zero_turns_it_off() -> None:
    limits = RateLimits(per_conversation=100, per_address=5, counter=MemoryCounter(), clock=Clock())
    said = [await limits.message(conversation_id=f"web:c{i}", address="10.0.0.9") for i in range(6)]
    assert [d.allowed for d in said] == [True] * 5 + [False]
    assert (await limits.message(conversation_id="web:c9", address="10.0.0.10")).allowed

    off = RateLimits(per_conversation=0, per_address=0, counter=MemoryCounter(), clock=Clock())
    assert all(
        [
            (await off.message(conversation_id="web:x", address="10.0.0.9")).allowed
            for _ in range(50)
        ]
    )


async def test_two_replicas_count_together_in_redis() -> None:
    conversation = f"web:replicas-{secrets.token_hex(6)}"
    clock = Clock()
    first = RateLimits(
        per_conversation=4, per_address=0, counter=RedisCounter(REDIS_URL), clock=clock
    )
    second = RateLimits(
        per_conversation=4, per_address=0, counter=RedisCounter(REDIS_URL), clock=clock
    )
    try:
        said = []
        for i in range(6):  # alternate between the replicas
            replica = first if i % 2 == 0 else second
            said.append((await replica.message(conversation_id=conversation, address=None)).allowed)
        assert said == [True, True, True, True, False, False]
    finally:
        await first.close()
        await second.close()


async def test_redis_away_lets_messages_through(caplog: pytest.LogCaptureFixture) -> None:
    limits = RateLimits(
        per_conversation=1,
        per_address=1,
        counter=RedisCounter(f"redis://127.0.0.1:{free_port()}/0"),  # nothing listens there
        clock=Clock(),
    )
    try:
        said = [await limits.message(conversation_id="web:r", address="10.0.0.1") for _ in range(3)]
    finally:
        await limits.close()
    assert all(d.allowed for d in said)
    warnings = [r for r in caplog.records if "rate limit counter unavailable" in r.getMessage()]
    assert len(warnings) == 1  # said once, not on every message


def test_web_chat_answers_429_in_chinese_and_keeps_no_trace(live: LiveFactory) -> None:
    app = live(rate_limit_per_conversation=3)
    conversation = "web:" + secrets.token_hex(8)
    answers = [
        httpx.post(
            f"{app.url}/api/chat/messages",
            json={"conversation_id": conversation, "text": f"第{i}条"},
            timeout=10,
        )
        for i in range(5)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    refused = answers[3]
    assert refused.json()["detail"]["code"] == "rate_limited"
    assert "过于频繁" in refused.json()["detail"]["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    users = [text for sender, text in app.transcript(conversation) if sender == "user"]
    assert users == ["第0条", "第1条", "第2条"]  # the refused ones were never taken
    assert len(app.rasa.calls) == 3


def test_wechat_follower_over_the_limit_is_told_in_a_passive_reply(live: LiveFactory) -> None:
    app = live(rate_limit_per_conversation=2)
    user = "o" + secrets.token_urlsafe(20)
    replies = [app.platform.reply(app.platform.post(text_xml(user, f"消息{i}"))) for i in range(3)]
    assert [r["Content"] for r in replies[:2] if r] == ["收到：消息0", "收到：消息1"]
    assert replies[2] is not None and "过于频繁" in replies[2]["Content"]
    assert [r.bot_text for r in app.inbound(f"wx:{user}")] == ["消息0", "消息1"]
