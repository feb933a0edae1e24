"""Conversations: accept a user's message once, run its bot turn, deliver the result once.

Every channel hands its messages to :meth:`Conversations.handle`:

1. *accept*: one ``chat_inbound`` row and the user's transcript row, in one transaction; the
   row's unique ``dedupe_key`` turns a retried message into a duplicate, in any process;
2. *turn*: the message goes to Rasa (older messages of the conversation still owed a turn go
   first) while the channel waits up to its deadline;
3. *deliver*: whoever claims the row's ``delivery`` first decides how the result reaches the
   user: ``passive`` (in this HTTP answer) or ``push`` (later, through the channel's
   :class:`Deliverer`). The claim is a conditional UPDATE, so two processes never both deliver.

When the bot is down the user gets an apology, the row stays ``pending`` and the retry worker
runs the turn once the bot is back; its result is pushed. A turn that timed out may have run in
Rasa all the same: it is tagged with a key in Rasa's tracker and looked up there before any
second attempt, so nothing is answered twice.
"""

import asyncio
import contextlib
import logging
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from channels import transcript
from channels.gateway import (
    BOT_UNAVAILABLE,
    BotMessage,
    BotUnavailable,
    RasaGateway,
    channel_options,
)
from channels.models import InboundMessage, as_utc, utcnow
from channels.notify import Notifier
from desk.db import get_sessionmaker

log = logging.getLogger(__name__)

State = Literal["replied", "later", "unavailable"]
DIGITS = re.compile(r"^\s*(\d{1,2})\s*[.。、]?\s*$")
# the answer to each message while an escalation waits for an expert (a claimed one is silent)
WAITING_FOR_EXPERT = "您的留言已记录，人工专家接入后会在这里一并回复您，请稍候。"


@dataclass(frozen=True)
class Incoming:
    """A user's message as a channel understood it."""

    conversation_id: str
    channel: str
    text: str  # the user's words, as the transcript keeps them
    bot_text: str | None  # what Rasa gets; None: no bot turn (the local replies answer)
    dedupe_key: str | None = None
    kind: str = "text"
    payload: dict[str, Any] = field(default_factory=dict)
    local_replies: tuple[BotMessage, ...] = ()
    numbered_options: bool = False  # a digit picks one of the last turn's buttons (WeChat)


@dataclass
class Outcome:
    inbound_id: int
    state: State  # replied: messages go in this answer; later: they will be pushed
    messages: list[dict[str, Any]] = field(default_factory=list)
    duplicate: bool = False


class Deliverer(Protocol):
    """A channel's way to reach a user later, and to note that the user got in touch."""

    def on_contact(self, session: Session, incoming: Incoming) -> None: ...

    def enqueue(
        self,
        session: Session,
        *,
        conversation_id: str,
        messages: list[dict[str, Any]],
        inbound_id: int | None,
    ) -> None: ...

    async def wake(self) -> None: ...


class KeyedLocks:
    """One asyncio lock per key (FIFO), dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: defaultdict[str, int] = defaultdict(int)

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]


class _NotYet(Exception):
    """The row cannot run now (leased elsewhere, waiting for its retry time, settling)."""


class Conversations:
    def __init__(
        self,
        *,
        database_url: str,
        gateway: RasaGateway,
        notifier: Notifier,
        turn_timeout_s: float,
        retry_interval_s: float,
        settle_s: float,
    ) -> None:
        self._sessions = get_sessionmaker(database_url)
        self._gateway = gateway
        self._notifier = notifier
        self._lease = timedelta(seconds=turn_timeout_s + 30)
        self._settle = timedelta(seconds=settle_s)
        self._retry_interval_s = retry_interval_s
        self._deliverers: dict[str, Deliverer] = {}
        self._locks = KeyedLocks()  # one bot turn at a time per conversation
        self._arrivals = KeyedLocks()  # messages of a conversation accepted in arrival order
        self._tasks: set[asyncio.Task[Any]] = set()
        self._live: defaultdict[str, dict[int, asyncio.Task[Any]]] = defaultdict(dict)

    def register(self, channel: str, deliverer: Deliverer) -> None:
        self._deliverers[channel] = deliverer

    # -- the path of one message -------------------------------------------------------------

    async def handle(self, incoming: Incoming, *, deadline_s: float) -> Outcome:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + deadline_s
        task: asyncio.Task[Any] | None = None
        if incoming.bot_text is not None and (
            held := await run_in_threadpool(self._expert_holds, incoming.conversation_id)
        ):  # people hold the conversation: the bot stays quiet, the message is kept
            holding = (BotMessage(WAITING_FOR_EXPERT),) if held == "waiting" else ()
            incoming = replace(incoming, bot_text=None, local_replies=holding)
        async with self._arrivals.hold(incoming.conversation_id):
            inbound_id = await run_in_threadpool(self._accept, incoming)
            if inbound_id is not None and incoming.bot_text is not None:
                task = self._spawn_live(inbound_id, incoming.conversation_id)
        if inbound_id is None:
            assert incoming.dedupe_key is not None
            return await self._await_duplicate(incoming.dedupe_key, deadline)
        if task is None:  # nothing for the bot: the channel's own replies answer
            messages = await run_in_threadpool(
                self._complete, inbound_id, list(incoming.local_replies), "system"
            )
            await self._notifier.publish(incoming.conversation_id)
            return await self._answer(inbound_id, messages)
        try:
            messages = await asyncio.wait_for(
                asyncio.shield(task), timeout=max(0.0, deadline - loop.time())
            )
        except TimeoutError:
            await self._claim_push(inbound_id)
            return Outcome(inbound_id, "later")
        except Exception as exc:  # bot down (or a fault of ours): the row is kept for a retry
            apology = await run_in_threadpool(
                self._apologize,
                inbound_id,
                str(exc) if isinstance(exc, BotUnavailable) else BOT_UNAVAILABLE,
            )
            await self._notifier.publish(incoming.conversation_id)
            await self._claim_push(inbound_id)
            return Outcome(inbound_id, "unavailable", [apology])
        return await self._answer(inbound_id, messages)

    async def _answer(self, inbound_id: int, messages: list[dict[str, Any]]) -> Outcome:
        if await run_in_threadpool(self._claim, inbound_id, "passive"):
            return Outcome(inbound_id, "replied", messages)
        return Outcome(inbound_id, "later")  # a retry of the same message took it

    async def _await_duplicate(self, key: str, deadline: float) -> Outcome:
        loop = asyncio.get_running_loop()
        while True:
            row = await run_in_threadpool(self._by_key, key)
            if row is None:  # the first one's transaction was rolled back
                return Outcome(0, "later", duplicate=True)
            ready = row.status == "done" and row.delivery is None
            if row.delivery == "passive" or (
                ready and await run_in_threadpool(self._claim, row.id, "passive")
            ):  # the same answer again: WeChat keeps one answer per message
                return Outcome(row.id, "replied", list(row.replies), duplicate=True)
            if row.delivery in {"push", "queued"}:
                return Outcome(row.id, "later", duplicate=True)
            if loop.time() >= deadline:
                await self._claim_push(row.id)
                return Outcome(row.id, "later", duplicate=True)
            await asyncio.sleep(0.1)

    def _spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_unexpected)
        return task

    def _spawn_live(self, inbound_id: int, conversation_id: str) -> asyncio.Task[Any]:
        live = self._live[conversation_id]
        older = [task for other, task in live.items() if other < inbound_id]
        task = self._spawn(self._run_live(inbound_id, conversation_id, older))
        live[inbound_id] = task

        def forget(_task: asyncio.Task[Any]) -> None:
            live.pop(inbound_id, None)
            if not live:
                self._live.pop(conversation_id, None)

        task.add_done_callback(forget)
        return task

    async def _run_live(
        self, inbound_id: int, conversation_id: str, older: list[asyncio.Task[Any]]
    ) -> list[dict[str, Any]]:
        if older:  # messages of one conversation that arrived together: in arrival order
            await asyncio.wait(older)
        async with self._locks.hold(conversation_id):
            try:
                await self._drain(conversation_id, before=inbound_id, live=True)
            except BotUnavailable:  # an older message failed: this one waits behind it
                await run_in_threadpool(self._postpone, inbound_id, False)
                raise
            return await self._turn(inbound_id)

    async def _turn(self, inbound_id: int) -> list[dict[str, Any]]:
        """Run the bot turn of a leased row; its result is stored (and pushed when owed)."""
        row = await run_in_threadpool(self._get, inbound_id)
        assert row.bot_text is not None
        created = as_utc(row.created_at) or utcnow()
        key = f"in-{row.id}-{created.timestamp():.0f}"
        try:
            replies = None
            if row.sent_at is not None:  # Rasa may have run it: look before sending again
                if utcnow() - (as_utc(row.sent_at) or utcnow()) < self._settle:
                    await run_in_threadpool(self._release, row.id)
                    raise _NotYet()
                replies = await self._gateway.find_turn(row.conversation_id, key)
            if replies is None:
                await run_in_threadpool(self._mark_sent, row.id)
                replies = await self._gateway.turn(
                    row.conversation_id, row.bot_text, key=key, channel=row.channel
                )
        except BotUnavailable as exc:
            await run_in_threadpool(self._postpone, row.id, exc.uncertain)
            raise
        messages = await run_in_threadpool(self._complete, row.id, replies, "bot")
        await self._notifier.publish(row.conversation_id)
        await self._push_if_owed(row.id)
        return messages

    async def _drain(self, conversation_id: str, *, before: int | None, live: bool) -> None:
        """Run the conversation's owed turns in order (those older than ``before``).

        The worker stops at the first row that cannot run now; a live message only steps
        over such rows (leased by another process, or settling after a timeout).
        """
        after = 0
        while True:
            row_id = await run_in_threadpool(self._next_owed, conversation_id, after, before)
            if row_id is None:
                return
            try:
                if not await run_in_threadpool(self._lease_row, row_id, live):
                    raise _NotYet()
                await self._turn(row_id)
            except _NotYet:
                if not live:
                    raise
                after = row_id

    async def _claim_push(self, inbound_id: int) -> None:
        await run_in_threadpool(self._claim, inbound_id, "push")
        await self._push_if_owed(inbound_id)

    async def _push_if_owed(self, inbound_id: int) -> None:
        channel = await run_in_threadpool(self._queue, inbound_id)
        if channel is not None and channel in self._deliverers:
            await self._deliverers[channel].wake()

    async def deliver(
        self,
        *,
        conversation_id: str,
        channel: str,
        messages: Sequence[BotMessage],
        sender: str = "expert",
    ) -> list[dict[str, Any]]:
        """A message that reaches the user outside a bot turn (an expert's reply, a follow-up):
        kept in the transcript, pushed to the web page's stream or the WeChat outbox."""

        def store() -> list[dict[str, Any]]:
            with self._sessions() as session:
                records = [
                    transcript.record(
                        session,
                        conversation_id=conversation_id,
                        channel=channel,
                        sender=sender,
                        text=m.text,
                        payload=transcript.message_payload(m),
                    )
                    for m in messages
                ]
                session.flush()
                public = [transcript.public(r) for r in records]
                deliverer = self._deliverers.get(channel)
                if deliverer is not None:
                    deliverer.enqueue(
                        session, conversation_id=conversation_id, messages=public, inbound_id=None
                    )
                session.commit()
                return public

        public = await run_in_threadpool(store)
        await self._notifier.publish(conversation_id)
        if channel in self._deliverers:
            await self._deliverers[channel].wake()
        return public

    # -- the retry worker --------------------------------------------------------------------

    async def retry_due(self) -> None:
        """One round: every conversation with a due turn drains in order, in parallel."""
        conversations = await run_in_threadpool(self._due_conversations)
        limit = asyncio.Semaphore(8)

        async def drain(conversation_id: str) -> None:
            async with limit, self._locks.hold(conversation_id):
                with contextlib.suppress(BotUnavailable, _NotYet):
                    await self._drain(conversation_id, before=None, live=False)

        await asyncio.gather(*(drain(c) for c in conversations))

    async def run_worker(self) -> None:
        while True:
            try:
                await self.retry_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retry round failed")
            await asyncio.sleep(self._retry_interval_s)

    async def aclose(self, grace_s: float = 2.0) -> None:
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=grace_s)
            for task in pending:  # their rows stay leased and are resumed by another round
                task.cancel()

    # -- database steps (run in the thread pool) ---------------------------------------------

    def _expert_holds(self, conversation_id: str) -> str | None:
        """The status of the conversation's active escalation (waiting, claimed), else None."""
        from desk.escalations.service import active_escalation

        with self._sessions() as session:
            escalation = active_escalation(session, conversation_id=conversation_id)
            return escalation.status if escalation is not None else None

    def _accept(self, incoming: Incoming) -> int | None:
        now = utcnow()
        with self._sessions() as session:
            if incoming.numbered_options:
                incoming = _choose(session, incoming)
            row = InboundMessage(
                conversation_id=incoming.conversation_id,
                channel=incoming.channel,
                dedupe_key=incoming.dedupe_key,
                kind=incoming.kind,
                bot_text=incoming.bot_text,
                status="processing" if incoming.bot_text is not None else "done",
                attempts=0,
                replies=[],
                created_at=now,
                lease_until=now + self._lease if incoming.bot_text is not None else None,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                session.rollback()
                return None
            transcript.record(
                session,
                conversation_id=incoming.conversation_id,
                channel=incoming.channel,
                sender="user",
                text=incoming.text,
                payload={**incoming.payload, "inbound_id": row.id},
            )
            deliverer = self._deliverers.get(incoming.channel)
            if deliverer is not None:
                deliverer.on_contact(session, incoming)
            try:
                session.commit()
            except IntegrityError:  # the same key committed meanwhile (PostgreSQL)
                session.rollback()
                return None
            return row.id

    def _by_key(self, key: str) -> InboundMessage | None:
        with self._sessions() as session:
            return session.scalars(
                select(InboundMessage).where(InboundMessage.dedupe_key == key)
            ).first()

    def _get(self, inbound_id: int) -> InboundMessage:
        with self._sessions() as session:
            row = session.get(InboundMessage, inbound_id)
            assert row is not None
            return row

    def _complete(
        self, inbound_id: int, replies: Sequence[BotMessage], sender: str
    ) -> list[dict[str, Any]]:
        with self._sessions() as session:
            row = session.get(InboundMessage, inbound_id)
            assert row is not None
            if row.status == "done" and row.bot_text is not None:  # resolved elsewhere
                return list(row.replies)
            records = [
                transcript.record(
                    session,
                    conversation_id=row.conversation_id,
                    channel=row.channel,
                    sender=sender,
                    text=m.text,
                    payload={**transcript.message_payload(m), "inbound_id": row.id},
                )
                for m in replies
            ]
            session.flush()
            messages = [transcript.public(r) for r in records]
            row.replies = messages
            row.status, row.done_at = "done", utcnow()
            row.sent_at = row.lease_until = row.next_attempt_at = None
            session.commit()
            return messages

    def _apologize(self, inbound_id: int, text: str) -> dict[str, Any]:
        with self._sessions() as session:
            row = session.get(InboundMessage, inbound_id)
            assert row is not None
            record = transcript.record(
                session,
                conversation_id=row.conversation_id,
                channel=row.channel,
                sender="system",
                text=text,
                payload={"inbound_id": row.id, "notice": True},
            )
            session.commit()
            return transcript.public(record)

    def _claim(self, inbound_id: int, delivery: str) -> bool:
        with self._sessions() as session:
            result = session.execute(
                update(InboundMessage)
                .where(InboundMessage.id == inbound_id, InboundMessage.delivery.is_(None))
                .values(delivery=delivery)
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def _queue(self, inbound_id: int) -> str | None:
        """push → queued once the result is there; the channel's outbox gets it in the same
        transaction. Returns the channel when this call did it."""
        with self._sessions() as session:
            result = session.execute(
                update(InboundMessage)
                .where(
                    InboundMessage.id == inbound_id,
                    InboundMessage.delivery == "push",
                    InboundMessage.status == "done",
                )
                .values(delivery="queued")
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                session.rollback()
                return None
            row = session.get(InboundMessage, inbound_id)
            assert row is not None
            deliverer = self._deliverers.get(row.channel)
            if deliverer is not None:
                deliverer.enqueue(
                    session,
                    conversation_id=row.conversation_id,
                    messages=list(row.replies),
                    inbound_id=row.id,
                )
            session.commit()
            return row.channel

    def _mark_sent(self, inbound_id: int) -> None:
        with self._sessions() as session:
            session.execute(
                update(InboundMessage)
                .where(InboundMessage.id == inbound_id)
                .values(sent_at=utcnow())
            )
            session.commit()

    def _postpone(self, inbound_id: int, uncertain: bool) -> None:
        with self._sessions() as session:
            row = session.get(InboundMessage, inbound_id)
            assert row is not None
            row.attempts += 1
            delay = min(60.0, self._retry_interval_s * 2 ** min(row.attempts - 1, 6))
            row.status, row.lease_until = "pending", None
            row.next_attempt_at = utcnow() + timedelta(seconds=delay)
            if uncertain:  # look in Rasa's tracker once it has surely finished
                row.next_attempt_at = max(row.next_attempt_at, utcnow() + self._settle)
            else:
                row.sent_at = None
            session.commit()

    def _release(self, inbound_id: int) -> None:
        with self._sessions() as session:
            session.execute(
                update(InboundMessage)
                .where(InboundMessage.id == inbound_id, InboundMessage.status == "processing")
                .values(status="pending", lease_until=None)
            )
            session.commit()

    def _lease_row(self, inbound_id: int, ignore_schedule: bool) -> bool:
        now = utcnow()
        claimable = or_(
            InboundMessage.status == "pending",
            (InboundMessage.status == "processing") & (InboundMessage.lease_until < now),
        )
        conditions = [InboundMessage.id == inbound_id, claimable]
        if not ignore_schedule:
            conditions.append(
                or_(InboundMessage.next_attempt_at.is_(None), InboundMessage.next_attempt_at <= now)
            )
        with self._sessions() as session:
            result = session.execute(
                update(InboundMessage)
                .where(*conditions)
                .values(status="processing", lease_until=now + self._lease)
            )
            session.commit()
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def _next_owed(self, conversation_id: str, after: int, before: int | None) -> int | None:
        with self._sessions() as session:
            query = (
                select(InboundMessage.id)
                .where(
                    InboundMessage.conversation_id == conversation_id,
                    InboundMessage.status != "done",
                    InboundMessage.id > after,
                )
                .order_by(InboundMessage.id)
                .limit(1)
            )
            if before is not None:
                query = query.where(InboundMessage.id < before)
            return session.scalars(query).first()

    def _due_conversations(self) -> list[str]:
        now = utcnow()
        with self._sessions() as session:
            query = (
                select(InboundMessage.conversation_id)
                .where(
                    or_(
                        (InboundMessage.status == "pending")
                        & or_(
                            InboundMessage.next_attempt_at.is_(None),
                            InboundMessage.next_attempt_at <= now,
                        ),
                        (InboundMessage.status == "processing")
                        & (InboundMessage.lease_until < now),
                    )
                )
                .distinct()
                .limit(200)
            )
            return list(session.scalars(query))


def _choose(session: Session, incoming: Incoming) -> Incoming:
    """A digit answers the numbered options of the conversation's latest turn."""
    match = DIGITS.match(incoming.text)
    if not match or incoming.bot_text is None:
        return incoming
    latest = session.scalars(
        select(InboundMessage)
        .where(InboundMessage.conversation_id == incoming.conversation_id)
        .order_by(InboundMessage.id.desc())
        .limit(1)
    ).first()
    if latest is None or latest.status != "done":
        return incoming
    buttons = channel_options(latest.replies)
    number = int(match.group(1))
    if not 1 <= number <= len(buttons):
        return incoming
    button = buttons[number - 1]
    return replace(
        incoming,
        bot_text=button["payload"],
        payload={
            **incoming.payload,
            "choice": number,
            "title": button["title"],
            "payload": button["payload"],
        },
    )


def _log_unexpected(task: asyncio.Task[Any]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None and not isinstance(exc, BotUnavailable | _NotYet):
        log.error("bot turn failed", exc_info=exc)
