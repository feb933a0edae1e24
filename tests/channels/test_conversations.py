"""The conversation core without HTTP: one message through ``Conversations.handle``."""

from collections.abc import AsyncIterator

import pytest

from channels.conversations import Conversations, Incoming
from channels.gateway import BotMessage
from channels.notify import Notifier
from channels.web.router import WebDeliverer
from desk.db import migrate
from tests.channels.sessions import counting_sessions


class InstantBot:
    """A gateway that answers at once (the timing double of servers.py needs HTTP)."""

    def __init__(self) -> None:
        self.turns: list[tuple[str, str]] = []

    async def turn(
        self, conversation_id: str, text: str, *, key: str | None = None, channel: str | None = None
    ) -> list[BotMessage]:
        self.turns.append((conversation_id, text))
        return [BotMessage(f"收到：{text}", buttons=[{"title": "好", "payload": "/affirm"}])]

    async def find_turn(self, conversation_id: str, key: str) -> list[BotMessage] | None:
        return None


@pytest.fixture
async def conversations(database_url: str) -> AsyncIterator[Conversations]:
    migrate(database_url)
    core = Conversations(
        database_url=database_url,
        gateway=InstantBot(),  # type: ignore[arg-type]
        notifier=Notifier(),
        turn_timeout_s=3.0,
        retry_interval_s=0.2,
        settle_s=1.0,
    )
    core.register("web", WebDeliverer())
    yield core
    await core.aclose()


async def test_a_web_message_costs_few_database_sessions(conversations: Conversations) -> None:
    incoming = Incoming(
        conversation_id="web:sessions-001", channel="web", text="你好", bot_text="你好"
    )
    await conversations.handle(incoming, deadline_s=5.0)  # the first one warms the pool
    with counting_sessions() as count:
        outcome = await conversations.handle(
            Incoming(
                conversation_id="web:sessions-001", channel="web", text="在吗", bot_text="在吗"
            ),
            deadline_s=5.0,
        )
    assert outcome.state == "replied"
    assert [m["text"] for m in outcome.messages] == ["收到：在吗"]
    print(f"sessions={count.sessions} transactions={count.transactions}")
    assert count.sessions <= 8  # measured before the split: 8
