"""The runner: a conversation's bot turns one at a time, in the order the messages came,
whichever app replica each message reached.

The order lives in the database, not in a process: a conversation's ``chat_inbound`` rows get
their ids in arrival order (:func:`channels.schedule.hold_conversation`), and a turn runs only
when every older row of the conversation is done. A row is leased to one process at a time (a
conditional UPDATE of ``status``/``lease_until``); a live message whose older row is leased by
another replica waits for it, polling, until that row is done, or its lease runs out (the replica
died) and this one takes it over. Only a row *settling* after a timed-out turn is stepped over:
Rasa may have run it, and it is looked up in Rasa's tracker once Rasa surely finished.

Why the database and not a Redis lock per conversation: the lease rows are already the truth of
who runs which turn (they survive a crash, and a lock would still need them to know what is
owed); a lock in Redis would be a second source of truth with its own expiry and fencing
problems (a paused holder whose lock expired still writes), and Redis is optional — the
embedded default has none, and the turns must not stop when Redis does. The cost is a
short poll while another replica runs an older turn, which only happens when a person writes
again before the previous answer came (or that replica died, until its lease runs out).

Inside one process, one :class:`KeyedLocks` lock per conversation is held around every turn
(the gateway keeps none of its own), and messages that arrived together also wait for the
older ones' tasks, so the poll is only ever for other processes. A turn that cannot run now
(the bot is down, the row settling after a timeout) is left to the retry worker, which drains
each due conversation in order and stops at the first row it cannot run.
"""

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, TypeVar

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from channels import lifecycle, schedule
from channels.contracts import Bot, Deliverer
from channels.gateway import BotMessage, BotUnavailable
from channels.lifecycle import Completed
from channels.schedule import Start, Turn
from desk.db import run_transaction
from desk.live.notifier import Notifier

log = logging.getLogger(__name__)
T = TypeVar("T")
POLL_S, POLL_MAX_S = 0.05, 0.5  # waiting for an older turn leased by another replica
ANSWER_GRACE_S = 0.3  # a turn done in time may commit this long past the answer's deadline


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


class NotYet(Exception):
    """The row cannot run now (leased elsewhere, waiting for its retry time, settling)."""


@dataclass
class Waiter:
    """The HTTP answer waiting for a live turn, until its deadline (event-loop time).

    Whoever moves first decides, on the event loop, with no await in between: the turn,
    done in time, claims the delivery for the answer in its completing transaction; or the
    answer leaves at the deadline and claims a push."""

    deadline: float
    state: Literal["waiting", "answering", "gone"] = "waiting"

    def answer(self) -> bool:
        """The turn is done: claim it for the waiting answer, if still in time."""
        if self.state == "waiting" and asyncio.get_running_loop().time() < self.deadline:
            self.state = "answering"
        return self.state == "answering"

    def left(self) -> float:
        """Seconds until the deadline (0 after it)."""
        return max(0.0, self.deadline - asyncio.get_running_loop().time())

    def leave(self) -> bool:
        """The deadline passed: False when the turn is already handing its answer over."""
        if self.state == "waiting":
            self.state = "gone"
        return self.state == "gone"


def in_transaction(
    sessions: sessionmaker[Session], step: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """Run one step (or a few, in ``step``) in one transaction (blocking: in a worker thread);
    a database that is away for a moment (a restart) is waited for (desk.db.run_transaction)."""
    return run_transaction(sessions, step, *args, **kwargs)


class TurnRunner:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        gateway: Bot,
        notifier: Notifier,
        deliverers: Mapping[str, Deliverer],
        lease: timedelta,
        settle: timedelta,
        retry_interval_s: float,
    ) -> None:
        self._sessions = sessions
        self._gateway = gateway
        self._notifier = notifier
        self._deliverers = deliverers
        self._lease = lease
        self._settle = settle
        self._retry_interval_s = retry_interval_s
        self.locks = KeyedLocks()  # the one per-conversation lock: one bot turn at a time
        self._tasks: set[asyncio.Task[Any]] = set()
        self._live: defaultdict[str, dict[int, asyncio.Task[Any]]] = defaultdict(dict)

    async def step(self, step: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await run_in_threadpool(in_transaction, self._sessions, step, *args, **kwargs)

    async def wake(self, channel: str | None) -> None:
        if channel is not None and channel in self._deliverers:
            await self._deliverers[channel].wake()

    # -- live turns --------------------------------------------------------------------------

    def spawn_live(self, accepted: lifecycle.Accepted, waiter: Waiter) -> asyncio.Task[Completed]:
        """The bot turn of a message just accepted, after the conversation's older ones."""
        inbound_id, conversation_id = accepted.inbound_id, accepted.conversation_id
        live = self._live[conversation_id]
        older = [task for other, task in live.items() if other < inbound_id]
        task = self._spawn(self._run_live(accepted, older, waiter))
        live[inbound_id] = task

        def forget(_task: asyncio.Task[Any]) -> None:
            live.pop(inbound_id, None)
            if not live:
                self._live.pop(conversation_id, None)

        task.add_done_callback(forget)
        return task

    async def _run_live(
        self, accepted: lifecycle.Accepted, older: list[asyncio.Task[Any]], waiter: Waiter
    ) -> Completed:
        assert accepted.turn is not None
        if older:  # messages of one conversation that arrived together: in arrival order
            await asyncio.wait(older)
        inbound_id = accepted.inbound_id
        async with self.locks.hold(accepted.conversation_id):
            start: Start = "send"  # accepted.started: marked sent when it was accepted
            turn: Turn | None = accepted.turn
            if not accepted.started:
                try:
                    await self._drain(accepted.conversation_id, before=inbound_id, live=True)
                except BotUnavailable:  # an older message failed: this one waits behind it
                    await self.step(self._postpone, inbound_id, False)
                    raise
                start, turn = await self.step(
                    schedule.begin_turn,
                    inbound_id,
                    lease=None,
                    ignore_schedule=True,
                    settle=self._settle,
                )
            assert turn is not None
            return await self._turn(turn, start, waiter)

    async def _turn(self, turn: Turn, start: Start, waiter: Waiter | None) -> Completed:
        """Run the bot turn of a leased row; its result is stored (and pushed when owed)."""
        if start in ("settling", "taken"):
            raise NotYet()
        try:
            replies: list[BotMessage] | None = None
            if start == "look":  # Rasa may have run it: look before sending again
                replies = await self._gateway.find_turn(turn.conversation_id, turn.key)
                if replies is None:
                    await self.step(schedule.mark_sent, turn.inbound_id)
            if replies is None:
                replies = await self._gateway.turn(
                    turn.conversation_id, turn.bot_text, key=turn.key, channel=turn.channel
                )
        except BotUnavailable as exc:
            await self.step(self._postpone, turn.inbound_id, exc.uncertain)
            raise
        passive = waiter is not None and waiter.answer()
        # the answer waits for this commit: a database away is waited for only a moment (the
        # row stays leased; the retry worker finds the turn in Rasa's tracker and pushes it)
        wait = {"away_s": waiter.left() + ANSWER_GRACE_S} if waiter and passive else {}
        done = await self.step(
            lifecycle.complete,
            turn.inbound_id,
            replies,
            claim_passive=passive,
            claim_push=not passive,  # no answer waits (any more): the channel pushes it
            deliverers=self._deliverers,
            **wait,
        )
        await self._notifier.publish(turn.conversation_id)
        await self.wake(done.queued)
        return done

    def _postpone(self, session: Session, inbound_id: int, uncertain: bool) -> None:
        schedule.postpone(
            session,
            inbound_id,
            uncertain=uncertain,
            interval_s=self._retry_interval_s,
            settle=self._settle,
        )

    async def _drain(self, conversation_id: str, *, before: int | None, live: bool) -> None:
        """Run the conversation's owed turns in order (those older than ``before``).

        The worker stops at the first row that cannot run now. A live message waits for a row
        leased by another process (it is that row's turn first) until it is done or its lease
        runs out and this process takes it; it steps over a row settling after a timeout.
        """
        after, pause = 0, POLL_S
        while True:
            row_id = await self.step(
                schedule.next_owed, conversation_id, after=after, before=before
            )
            if row_id is None:
                return
            try:
                start, turn = await self.step(
                    schedule.begin_turn,
                    row_id,
                    lease=self._lease,
                    ignore_schedule=live,
                    settle=self._settle,
                )
                if turn is None:  # leased by another process (or, for the worker, not due)
                    if not live:
                        raise NotYet()
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, POLL_MAX_S)
                    continue
                pause = POLL_S
                await self._turn(turn, start, None)
            except NotYet:
                if not live:
                    raise
                after = row_id

    # -- the retry worker --------------------------------------------------------------------

    async def retry_due(self) -> None:
        """One round: every conversation with a due turn drains in order, in parallel."""
        conversations = await self.step(schedule.due_conversations)
        limit = asyncio.Semaphore(8)

        async def drain(conversation_id: str) -> None:
            async with limit, self.locks.hold(conversation_id):
                with contextlib.suppress(BotUnavailable, NotYet):
                    await self._drain(conversation_id, before=None, live=False)

        await asyncio.gather(*(drain(c) for c in conversations))

    async def retry_round(self) -> None:
        """One round of the retry worker (a failure is logged: the next round tries again)."""
        try:
            await self.retry_due()
        except Exception:
            log.exception("retry round failed")

    async def aclose(self, grace_s: float = 2.0) -> None:
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=grace_s)
            for task in pending:  # their rows stay leased and are resumed by another round
                task.cancel()

    def _spawn(self, coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_unexpected)
        return task


def _log_unexpected(task: asyncio.Task[Any]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None and not isinstance(exc, BotUnavailable | NotYet):
        log.error("bot turn failed", exc_info=exc)
