"""The conversation core without HTTP: messages through ``Conversations.handle``.

Database sessions are counted with :func:`tests.channels.sessions.counting_sessions`; before
the core was split a web message answered in time took 8 (one per step).
"""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from app.database import migrate
from channels.contracts import Incoming
from channels.conversations import Conversations
from channels.gateway import BotMessage
from channels.models import InboundMessage
from channels.transcript import ChatMessage
from channels.web.router import WebDeliverer
from desk.db import get_sessionmaker
from desk.live.notifier import Notifier
from tests.channels.sessions import counting_sessions


class InstantBot:
    """A gateway that answers at once, or after ``delay_s`` (no HTTP, unlike servers.py)."""

    def __init__(self) -> None:
        self.turns: list[tuple[str, str]] = []
        self.delay_s = 0.0

    async def turn(
        self, conversation_id: str, text: str, *, key: str | None = None, channel: str | None = None
    ) -> list[BotMessage]:
        self.turns.append((conversation_id, text))
        await asyncio.sleep(self.delay_s)
        return [BotMessage(f"收到：{text}", buttons=[{"title": "好", "payload": "/affirm"}])]

    async def find_turn(self, conversation_id: str, key: str) -> list[BotMessage] | None:
        return None


@pytest.fixture
def bot() -> InstantBot:
    return InstantBot()


@pytest.fixture
async def conversations(database_url: str, bot: InstantBot) -> AsyncIterator[Conversations]:
    migrate(database_url)
    core = Conversations(
        database_url=database_url,
        gateway=bot,
        notifier=Notifier(),
        turn_timeout_s=3.0,
        retry_interval_s=0.2,
        settle_s=1.0,
    )
    core.register("web", WebDeliverer())
    await core.handle(web("web:warm-up-001", "你好"), deadline_s=5.0)  # warms the pool
    yield core
    await core.aclose()


def web(conversation_id: str, text: str, bot_text: str | None = "") -> Incoming:
    return Incoming(
        conversation_id=conversation_id,
        channel="web",
        text=text,
        bot_text=text if bot_text == "" else bot_text,
    )


async def test_a_web_message_answered_in_time_takes_two_sessions(
    conversations: Conversations,
) -> None:
    with counting_sessions() as count:
        outcome = await conversations.handle(web("web:sessions-001", "在吗"), deadline_s=5.0)
    assert outcome.state == "replied"
    assert [m["text"] for m in outcome.messages] == ["收到：在吗"]
    assert outcome.messages[0]["buttons"] == [{"title": "好", "payload": "/affirm"}]
    assert count.sessions <= 2  # accept; complete with the passive claim (8 before)
    assert count.transactions <= 2


async def test_a_message_without_a_bot_turn_takes_one_session(
    conversations: Conversations,
) -> None:
    incoming = Incoming(
        conversation_id="web:sessions-002",
        channel="web",
        text="[图片]",
        bot_text=None,
        local_replies=(BotMessage("已收到您发送的图片"),),
    )
    with counting_sessions() as count:
        outcome = await conversations.handle(incoming, deadline_s=5.0)
    assert outcome.state == "replied"
    assert [m["text"] for m in outcome.messages] == ["已收到您发送的图片"]
    assert count.sessions == 1  # accepted, answered and claimed together (4 before)


async def test_a_slow_turn_is_pushed_once_after_the_deadline(
    conversations: Conversations, bot: InstantBot, database_url: str
) -> None:
    bot.delay_s = 0.5
    with counting_sessions() as count:
        outcome = await conversations.handle(web("web:sessions-003", "慢一点"), deadline_s=0.1)
        assert outcome.state == "later"
        await asyncio.sleep(1.0)  # the turn finishes and hands its result over
    with get_sessionmaker(database_url)() as session:
        [row] = session.scalars(
            select(InboundMessage).where(InboundMessage.conversation_id == "web:sessions-003")
        )
        assert (row.status, row.delivery) == ("done", "queued")
        texts = session.scalars(
            select(ChatMessage.text).where(ChatMessage.conversation_id == "web:sessions-003")
        )
        assert list(texts) == ["慢一点", "收到：慢一点"]
    assert count.sessions <= 3  # accept; claim the push; complete and queue


async def test_messages_of_one_conversation_run_in_arrival_order(
    conversations: Conversations, bot: InstantBot
) -> None:
    bot.delay_s = 0.05
    texts = [f"第{n}条" for n in range(5)]
    outcomes = await asyncio.gather(
        *(conversations.handle(web("web:sessions-004", t), deadline_s=5.0) for t in texts)
    )
    assert [o.messages[0]["text"] for o in outcomes] == [f"收到：{t}" for t in texts]
    assert [t for c, t in bot.turns if c == "web:sessions-004"] == texts
