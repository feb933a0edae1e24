"""Two app replicas on one database: a conversation's turns in arrival order, one at a time.

Each replica is its own :class:`Conversations` (its own in-process locks and tasks), as two app
processes behind nginx would be; only the database (SQLite file or the real PostgreSQL server)
is shared. The bot double records when each turn starts and ends, so a turn that overtakes an
older one, or runs beside it, shows.
"""

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.database import migrate
from channels import lifecycle
from channels.contracts import Incoming
from channels.conversations import Conversations
from channels.gateway import BotMessage
from channels.models import InboundMessage
from channels.web.router import WebDeliverer
from desk.db import get_sessionmaker
from desk.live.notifier import Notifier


class SharedBot:
    """One Rasa for both replicas: records every turn and any two turns of one conversation
    that overlap."""

    def __init__(self) -> None:
        self.turns: list[tuple[str, str]] = []
        self.running: set[str] = set()
        self.overlaps: list[tuple[str, str]] = []
        self.delay_s = 0.0
        self.rng = random.Random(13)

    async def turn(
        self, conversation_id: str, text: str, *, key: str | None = None, channel: str | None = None
    ) -> list[BotMessage]:
        if conversation_id in self.running:
            self.overlaps.append((conversation_id, text))
        self.running.add(conversation_id)
        self.turns.append((conversation_id, text))
        try:
            await asyncio.sleep(self.delay_s or self.rng.uniform(0.0, 0.03))
        finally:
            self.running.discard(conversation_id)
        return [BotMessage(f"收到：{text}")]

    async def find_turn(self, conversation_id: str, key: str) -> list[BotMessage] | None:
        return None  # Rasa never saw it: the turn is sent again

    def of(self, conversation_id: str) -> list[str]:
        return [text for c, text in self.turns if c == conversation_id]


@pytest.fixture
def bot() -> SharedBot:
    return SharedBot()


@pytest.fixture
async def replicas(database_url: str, bot: SharedBot) -> AsyncIterator[list[Conversations]]:
    migrate(database_url)
    cores = []
    for _ in range(2):
        core = Conversations(
            database_url=database_url,
            gateway=bot,
            notifier=Notifier(),
            turn_timeout_s=3.0,
            retry_interval_s=0.2,
            settle_s=1.0,
        )
        core.register("web", WebDeliverer())
        cores.append(core)
    yield cores
    for core in cores:
        await core.aclose()


def web(conversation_id: str, text: str) -> Incoming:
    return Incoming(conversation_id=conversation_id, channel="web", text=text, bot_text=text)


def rows_of(database_url: str, conversation_id: str) -> list[InboundMessage]:
    with get_sessionmaker(database_url)() as session:
        return list(
            session.scalars(
                select(InboundMessage)
                .where(InboundMessage.conversation_id == conversation_id)
                .order_by(InboundMessage.id)
            )
        )


async def test_a_message_on_the_other_replica_waits_for_the_older_turn(
    replicas: list[Conversations], bot: SharedBot, database_url: str
) -> None:
    a, b = replicas
    bot.delay_s = 0.4
    first = asyncio.create_task(a.handle(web("web:replica-001", "第一条"), deadline_s=5.0))
    await asyncio.sleep(0.1)  # the first is with the bot on replica A
    second = await b.handle(web("web:replica-001", "第二条"), deadline_s=5.0)
    assert [m["text"] for m in (await first).messages] == ["收到：第一条"]
    assert [m["text"] for m in second.messages] == ["收到：第二条"]
    assert bot.of("web:replica-001") == ["第一条", "第二条"]
    assert bot.overlaps == []
    rows = rows_of(database_url, "web:replica-001")
    assert [(r.bot_text, r.status, r.delivery) for r in rows] == [
        ("第一条", "done", "passive"),
        ("第二条", "done", "passive"),
    ]


async def test_interleaved_conversations_keep_their_order_across_replicas(
    replicas: list[Conversations], bot: SharedBot, database_url: str
) -> None:
    rng = random.Random(7)
    conversations = [f"web:replica-1{n:02d}" for n in range(6)]

    async def send(conversation_id: str, n: int) -> tuple[str, list[str]]:
        await asyncio.sleep(rng.uniform(0.0, 0.15))  # arrivals of several at once, any order
        text = f"{conversation_id[-3:]}-{n}"
        outcome = await replicas[n % 2].handle(web(conversation_id, text), deadline_s=10.0)
        return text, [m["text"] for m in outcome.messages]

    answers = await asyncio.gather(*(send(c, n) for c in conversations for n in range(6)))
    assert all(replies == [f"收到：{text}"] for text, replies in answers)
    assert bot.overlaps == []
    for conversation_id in conversations:
        rows = rows_of(database_url, conversation_id)
        arrived = [r.bot_text for r in rows]  # the order the replicas accepted them in
        assert bot.of(conversation_id) == arrived
        assert len(arrived) == 6
        assert all(
            r.status == "done" and r.replies[0]["text"] == f"收到：{r.bot_text}" for r in rows
        )


async def test_an_older_turn_left_by_a_dead_replica_is_taken_over_first(
    replicas: list[Conversations], bot: SharedBot, database_url: str
) -> None:
    _, b = replicas
    with get_sessionmaker(database_url)() as session:  # accepted by a replica that then died
        accepted = lifecycle.accept(
            session,
            web("web:replica-201", "第一条"),
            lease=timedelta(seconds=1.5),
            deliverers=b.deliverers,
        )
        session.commit()
    assert accepted is not None and accepted.started
    second = await b.handle(web("web:replica-201", "第二条"), deadline_s=8.0)
    assert [m["text"] for m in second.messages] == ["收到：第二条"]
    assert bot.of("web:replica-201") == ["第一条", "第二条"]  # the dead one's turn first
    rows = rows_of(database_url, "web:replica-201")
    assert [(r.bot_text, r.status) for r in rows] == [("第一条", "done"), ("第二条", "done")]
    assert rows[0].replies[0]["text"] == "收到：第一条"
