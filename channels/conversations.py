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

The parts: :mod:`channels.contracts` (what channels hand in and get back),
:mod:`channels.lifecycle` and :mod:`channels.schedule` (the SQL steps), :mod:`channels.runner`
(turns in order, retries).
A message answered in time costs two transactions: accept, then complete-and-claim.
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType
from typing import Any
from uuid import uuid4

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from channels import lifecycle, transcript
from channels.contracts import Bot, Deliverer, Incoming, Outcome
from channels.gateway import BOT_UNAVAILABLE, BotMessage, BotUnavailable
from channels.lifecycle import WAITING_FOR_EXPERT, Accepted, Completed
from channels.runner import KeyedLocks, TurnRunner, Waiter, in_transaction
from channels.spool import Spool
from channels.spool_order import Entry, SpoolOrder
from desk.db import AWAY_S, database_away, get_sessionmaker
from desk.escalations.settings import ConsultationSettings
from desk.live.notifier import Notifier

__all__ = ["WAITING_FOR_EXPERT", "Conversations", "Deliverer", "Incoming", "Outcome"]

log = logging.getLogger(__name__)
# A database that is away is waited for until this long before the channel's deadline; then
# the message is spooled (channels/spool.py) and the user is told it is kept. After the
# deadline a step gets one try (a database that refuses connections answers at once).
SPOOL_MARGIN_S = 1.0


def kept_notice(text: str = BOT_UNAVAILABLE) -> dict[str, Any]:
    """The answer while the database is away: the message is kept (not in the transcript yet;
    the page's history shows the reply once it comes)."""
    return {"sender": "system", "text": text, "buttons": [], "pending": True}


@contextlib.contextmanager
def _kept_when_away() -> Iterator[None]:
    """A step that can wait for later: the database away is not the user's error."""
    try:
        yield
    except DBAPIError as exc:
        if not database_away(exc):
            raise
        log.warning("database away: step left for later error=%s", type(exc).__name__)


class Conversations:
    def __init__(
        self,
        *,
        database_url: str,
        gateway: Bot,
        notifier: Notifier,
        turn_timeout_s: float,
        retry_interval_s: float,
        settle_s: float,
        consultation: ConsultationSettings | None = None,
        spool: Spool | None = None,
        spool_order: SpoolOrder | None = None,
    ) -> None:
        self._sessions = get_sessionmaker(database_url)
        self._spool = spool
        self._order = spool_order if spool is not None else None  # with replicas (Redis)
        self._retry_interval_s = retry_interval_s
        self._notifier = notifier
        self._consultation = consultation or ConsultationSettings()
        self._lease = timedelta(seconds=turn_timeout_s + 30)
        self._deliverers: dict[str, Deliverer] = {}
        self._arrivals = KeyedLocks()  # messages of a conversation accepted in arrival order
        self._runner = TurnRunner(
            sessions=self._sessions,
            gateway=gateway,
            notifier=notifier,
            deliverers=self._deliverers,
            lease=self._lease,
            settle=timedelta(seconds=settle_s),
            retry_interval_s=retry_interval_s,
        )

    def register(self, channel: str, deliverer: Deliverer) -> None:
        self._deliverers[channel] = deliverer

    @property
    def deliverers(self) -> Mapping[str, Deliverer]:
        """The registered channels' deliverers (read-only view, kept up to date)."""
        return MappingProxyType(self._deliverers)

    # -- the path of one message -------------------------------------------------------------

    async def handle(self, incoming: Incoming, *, deadline_s: float) -> Outcome:
        loop = asyncio.get_running_loop()
        waiter = Waiter(deadline=loop.time() + deadline_s)
        if self._spool is not None and incoming.dedupe_key is None:  # found again if spooled
            incoming = replace(incoming, dedupe_key=f"{incoming.conversation_id}:{uuid4().hex}")
        task: asyncio.Task[Completed] | None = None
        async with self._arrivals.hold(incoming.conversation_id):
            try:
                # kept older messages first; another replica's still to come: this one waits
                # behind them, spooled too
                if not await self._replay(incoming.conversation_id):
                    await self._put(incoming)
                    log.info("spooled behind another replica's conversation=%s",
                             incoming.conversation_id)  # fmt: skip
                    return Outcome(0, "unavailable", [kept_notice()])
                # the database away: waited for while the channel can wait, then spooled
                away_s = min(AWAY_S, max(0.0, deadline_s - SPOOL_MARGIN_S))
                accepted = await run_in_threadpool(self._accept, incoming, away_s)
            except DBAPIError as exc:
                if self._spool is None or not database_away(exc):
                    raise
                await self._put(incoming)
                log.warning("database away: spooled conversation=%s", incoming.conversation_id)
                return Outcome(0, "unavailable", [kept_notice()])
            if accepted is not None and accepted.turn is not None:
                task = self._runner.spawn_live(accepted, waiter)
        if accepted is not None and accepted.released:  # committed: kept notices go out now
            await self._runner.wake(incoming.channel)
        if accepted is None:
            assert incoming.dedupe_key is not None
            return await self._await_duplicate(incoming.dedupe_key, waiter.deadline)
        inbound_id = accepted.inbound_id
        if task is None:  # nothing for the bot (or people hold it): answered and claimed
            await self._notifier.publish(incoming.conversation_id)
            return Outcome(inbound_id, "replied", accepted.messages)
        try:
            try:
                done = await asyncio.wait_for(
                    asyncio.shield(task), timeout=max(0.0, waiter.deadline - loop.time())
                )
            except TimeoutError:
                if waiter.leave():
                    with _kept_when_away():  # the turn claims the push when it completes
                        await self._claim_push(inbound_id, away_s=waiter.left())
                    return Outcome(inbound_id, "later")
                done = await task  # in time: it is committing its answer right now
        except Exception as exc:  # bot down (or a fault of ours): the row is kept for a retry
            text = str(exc) if isinstance(exc, BotUnavailable) else BOT_UNAVAILABLE
            try:
                apology, channel = await self._runner.step(
                    self._apologize, inbound_id, text, away_s=waiter.left()
                )
            except DBAPIError as db_exc:  # the row is kept; its turn pushes the answer
                if not database_away(db_exc):
                    raise
                return Outcome(inbound_id, "unavailable", [kept_notice(text)])
            await self._notifier.publish(incoming.conversation_id)
            await self._runner.wake(channel)
            return Outcome(inbound_id, "unavailable", [apology])
        if done.passive:
            return Outcome(inbound_id, "replied", done.messages)
        return Outcome(inbound_id, "later")  # a retry of the same message took it

    def _accept(self, incoming: Incoming, away_s: float = AWAY_S) -> Accepted | None:
        """Accept in one transaction, waiting for a database that is away for a moment."""
        try:
            return in_transaction(
                self._sessions,
                lifecycle.accept,
                incoming,
                lease=self._lease,
                deliverers=self._deliverers,
                consultation=self._consultation,
                away_s=away_s,
            )
        except IntegrityError:  # the same key committed meanwhile (PostgreSQL)
            return None

    # -- the spool: messages the database could not take in time -----------------------------

    async def _put(self, incoming: Incoming) -> None:
        assert self._spool is not None and incoming.dedupe_key is not None
        kept = await run_in_threadpool(self._spool.put, incoming)
        if kept and self._order is not None:
            await self._order.queued(incoming.conversation_id, incoming.dedupe_key)

    async def _next_of_others(
        self, conversation_id: str, held: list[tuple[int, Incoming]]
    ) -> Entry | None:
        """Across replicas: the conversation's next kept message, when it is not this
        replica's own next one (None: this replica's turn, or no order is kept)."""
        if self._order is None:
            return None
        keys = {incoming.dedupe_key for _, incoming in held if incoming.dedupe_key}
        first = await self._order.first(conversation_id, keys)
        if first is None or first.owner == self._order.owner:
            return None
        return first

    async def _replay(self, conversation_id: str) -> bool:
        """Accept the conversation's spooled messages, in order (the caller holds its arrival
        lock); each one's turn runs as a live one whose answer is pushed. False when another
        replica's kept message of the conversation comes first (this one must wait behind
        it). Raises DBAPIError while the database is still away."""
        if self._spool is None or (self._order is None and not self._spool.holds()):
            return True
        held = (
            await run_in_threadpool(self._spool.entries, conversation_id)
            if self._spool.holds()
            else []
        )
        for n, (entry_id, incoming) in enumerate(held):
            if await self._next_of_others(conversation_id, held[n:]) is not None:
                return False
            accepted = await run_in_threadpool(self._accept, incoming, 0.0)  # one try
            await run_in_threadpool(self._spool.remove, entry_id)
            if self._order is not None and incoming.dedupe_key is not None:
                await self._order.done(conversation_id, incoming.dedupe_key)
            if accepted is None:  # its first accept had committed after all
                continue
            log.info("spooled message accepted conversation=%s", conversation_id)
            if accepted.turn is None:  # a local answer (a note): it reaches them later
                await self._runner.step(self._hand_over, accepted, incoming.channel)
                await self._notifier.publish(conversation_id)
                await self._runner.wake(incoming.channel)
                continue
            waiter = Waiter(deadline=0.0)
            waiter.leave()
            self._runner.spawn_live(accepted, waiter)
            await self._claim_push(accepted.inbound_id)
        return await self._next_of_others(conversation_id, []) is None

    def _hand_over(self, session: Session, accepted: Accepted, channel: str) -> None:
        deliverer = self._deliverers.get(channel)
        if deliverer is not None and accepted.messages:
            deliverer.enqueue(
                session,
                conversation_id=accepted.conversation_id,
                messages=accepted.messages,
                inbound_id=accepted.inbound_id,
            )

    async def replay_spool(self) -> None:
        """Every spooled conversation, oldest first; stops while the database is still away."""
        if self._order is not None:
            await self._order.refresh()  # whether other replicas keep any (channels/spool_order)
        if self._spool is None or not self._spool.holds():
            return
        for conversation_id in await run_in_threadpool(self._spool.conversations):
            async with self._arrivals.hold(conversation_id):
                await self._replay(conversation_id)

    def _apologize(
        self, session: Session, inbound_id: int, text: str
    ) -> tuple[dict[str, Any], str | None]:
        apology = lifecycle.apologize(session, inbound_id, text)
        return apology, self._push(session, inbound_id)

    def _push(self, session: Session, inbound_id: int) -> str | None:
        """Claim a push; queue it at once when the result is already there."""
        lifecycle.claim(session, inbound_id, "push")
        return lifecycle.queue(session, inbound_id, self._deliverers)

    async def _claim_push(self, inbound_id: int, **wait: float) -> None:
        await self._runner.wake(await self._runner.step(self._push, inbound_id, **wait))

    async def _await_duplicate(self, key: str, deadline: float) -> Outcome:
        loop = asyncio.get_running_loop()
        while True:
            row = await self._runner.step(lifecycle.by_key, key)
            if row is None:  # the first one's transaction was rolled back
                return Outcome(0, "later", duplicate=True)
            ready = row.status == "done" and row.delivery is None
            if row.delivery == "passive" or (
                ready and await self._runner.step(lifecycle.claim, row.id, "passive")
            ):  # the same answer again: WeChat keeps one answer per message
                return Outcome(row.id, "replied", list(row.replies), duplicate=True)
            if row.delivery in {"push", "queued"}:
                return Outcome(row.id, "later", duplicate=True)
            if loop.time() >= deadline:
                await self._claim_push(row.id)
                return Outcome(row.id, "later", duplicate=True)
            await asyncio.sleep(0.1)

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

        def store(session: Session) -> list[dict[str, Any]]:
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
            return public

        public = await self._runner.step(store)
        await self._notifier.publish(conversation_id)
        await self._runner.wake(channel)
        return public

    # -- the retry worker --------------------------------------------------------------------

    async def retry_due(self) -> None:
        await self._runner.retry_due()

    async def run_worker(self) -> None:
        """Spooled messages first (they are older than any owed turn), then the due turns."""
        while True:
            try:
                await self.replay_spool()
            except DBAPIError as exc:
                if not database_away(exc):
                    log.exception("spool replay failed")
            except Exception:
                log.exception("spool replay failed")
            await self._runner.retry_round()
            await asyncio.sleep(self._retry_interval_s)

    async def aclose(self, grace_s: float = 2.0) -> None:
        await self._runner.aclose(grace_s)
        if self._order is not None:
            await self._order.aclose()
