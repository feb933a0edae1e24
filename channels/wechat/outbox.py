"""Customer-service messages (客服消息): what the bot says after the 4.5-second answer.

WeChat lets an account send a follower only a few such messages within 48 hours of the
follower's last contact (``wechat_cs_quota``, 5 at the time of writing; 45015 past the window).
So the outbox

* counts, per follower, what it sent since the last contact (a conditional UPDATE reserves one
  unit, so processes never overspend together: channels/wechat/window.py);
* merges what is waiting into as few messages as 2048 bytes allow;
* when the window is closed or the quota spent, *holds* the rest; the follower's next contact
  opens a new window and releases it. Nothing is dropped.

A row with ``chat_message_id`` sends an expert's line (channels/expert_replies.py) as a message
of its own (never merged: the line's delivery follows its row, channels/wechat/delivery.py).

A network error before WeChat answered may or may not have delivered: a connection failure is
retried, a timeout after sending is counted as sent (unconfirmed) rather than risk a duplicate.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import requests
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from channels.contracts import Incoming
from channels.models import InboundMessage, OutboxMessage, as_utc, utcnow
from channels.wechat.client import ApiClient, WeChatApiError
from channels.wechat.delivery import MAX_ATTEMPTS, UNREACHABLE, report
from channels.wechat.render import TEXT_LIMIT, render_turn, split_text
from channels.wechat.window import Window, ensure_contact, lease_sender, openid_of, release_sender

log = logging.getLogger(__name__)
T = TypeVar("T")

WINDOW_CLOSED = frozenset({45015, 45047})  # past 48 h / over the per-window count
MORE_WAITING = "（还有{n}条消息，回复任意内容即可查看）"
NOTE_ROOM = 100  # bytes kept free in each packed message for that note
MERGE_WAIT = timedelta(seconds=10)
NOT_REACHED = "无法连接微信服务器，稍后重试。"


class WeChatOutbox:
    """The WeChat channel's :class:`~channels.contracts.Deliverer` and its sender."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        client: Callable[[], ApiClient | None],
        quota: int,
        window: timedelta,
        retry_interval_s: float,
    ) -> None:
        self.sessions = sessions
        self._client = client
        self._window = Window(quota=quota, window=window)
        self._retry_interval_s = retry_interval_s
        self._kick = asyncio.Event()

    # -- Deliverer ---------------------------------------------------------------------------

    def on_contact(self, session: Session, incoming: Incoming) -> None:
        """Inside the accepting transaction: the follower's window opens, held messages go."""
        if self._window.contact(session, openid_of(incoming.conversation_id), incoming):
            self._kick.set()

    def enqueue(
        self,
        session: Session,
        *,
        conversation_id: str,
        messages: list[dict[str, Any]],
        inbound_id: int | None,
    ) -> None:
        self.enqueue_texts(session, conversation_id, [render_turn(messages)], inbound_id)

    def enqueue_texts(
        self,
        session: Session,
        conversation_id: str,
        texts: Sequence[str],
        inbound_id: int | None,
    ) -> None:
        openid = openid_of(conversation_id)
        ensure_contact(session, openid)
        pieces = [p for text in texts for p in split_text(text, TEXT_LIMIT - NOTE_ROOM)]
        for text in pieces:
            if text.strip():
                session.add(
                    OutboxMessage(
                        openid=openid,
                        inbound_id=inbound_id,
                        content=text,
                        status="pending",
                        attempts=0,
                        created_at=utcnow(),
                    )
                )

    async def wake(self) -> None:
        self._kick.set()

    # -- the sender --------------------------------------------------------------------------

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), timeout=self._retry_interval_s)
            self._kick.clear()
            try:
                await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox round failed")

    async def send_due(self) -> None:
        openids = await run_in_threadpool(self._due_openids)
        limit = asyncio.Semaphore(8)

        async def send(openid: str) -> None:
            async with limit:
                await run_in_threadpool(self.send_to, openid)

        await asyncio.gather(*(send(o) for o in openids))

    def _due_openids(self) -> list[str]:
        now = utcnow()
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(OutboxMessage.openid)
                    .where(
                        OutboxMessage.status == "pending",
                        or_(
                            OutboxMessage.next_attempt_at.is_(None),
                            OutboxMessage.next_attempt_at <= now,
                        ),
                    )
                    .distinct()
                    .limit(200)
                )
            )

    def send_to(self, openid: str) -> None:
        """Send what waits for one follower (blocking: runs in a worker thread)."""
        client = self._client()
        if client is None:
            return
        if not self._in_transaction(lease_sender, openid):
            return  # another process is sending to this follower
        try:
            self._send_leased(client, openid)
        finally:
            self._in_transaction(release_sender, openid)

    def _in_transaction(self, step: Callable[[Session, str], T], openid: str) -> T:
        with self.sessions() as session:
            result = step(session, openid)
            session.commit()
            return result

    def _send_leased(self, client: ApiClient, openid: str) -> None:
        with self.sessions() as session:
            rows = list(
                session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.openid == openid, OutboxMessage.status == "pending")
                    .order_by(OutboxMessage.id)
                )
            )
            first_due = as_utc(rows[0].next_attempt_at) if rows else None
            if not rows or (first_due is not None and first_due > utcnow()):
                return  # in order: nothing overtakes a message waiting for its retry
            if self._more_coming(session, openid, rows[0]):
                return  # the bot is still answering kept messages: merge, then send
            packs = _packs(rows)
            for index, pack in enumerate(packs):
                rest = [r for p in packs[index + 1 :] for r in p]
                reserved = self._window.reserve(session, openid)
                session.commit()  # never hold a write transaction across an HTTP call
                if not reserved:
                    _hold(pack + rest, None)
                    report(session, pack + rest)
                    break
                content = "\n\n".join(r.content for r in pack)
                if rest and self._window.spent(session, openid):
                    content += "\n" + MORE_WAITING.format(n=len(_packs(rest)))
                if not self._send_one(session, client, openid, pack, content):
                    if pack[0].status == "held":  # the window closed: the rest waits too
                        _hold(rest, None)
                        report(session, rest)
                    break
                session.commit()
            session.commit()

    def _send_one(
        self,
        session: Session,
        client: ApiClient,
        openid: str,
        pack: list[OutboxMessage],
        content: str,
    ) -> bool:
        try:
            client.send_text(openid, content)
        except WeChatApiError as exc:
            self._window.refund(session, openid)
            if exc.errcode in WINDOW_CLOSED:
                self._window.close(session, openid)
            if exc.errcode in WINDOW_CLOSED or exc.errcode in UNREACHABLE:
                _hold(pack, exc.errcode)
            else:
                self._postpone(pack, exc.errcode)
            report(session, pack, exc.errmsg if exc.errcode is not None else NOT_REACHED)
            log.warning("customer-service message refused code=%s", exc.errcode)
            return False
        except (requests.ConnectionError, requests.exceptions.ConnectTimeout) as exc:
            self._window.refund(session, openid)
            self._postpone(pack, None)
            report(session, pack, NOT_REACHED)
            log.warning("customer-service message not sent error=%r", exc)
            return False
        except requests.Timeout:
            log.warning("customer-service message unconfirmed (timeout): counted as sent")
            _mark_sent(pack, -1)
            report(session, pack)
            return True
        _mark_sent(pack, None)
        report(session, pack)
        return True

    def _more_coming(self, session: Session, openid: str, oldest: OutboxMessage) -> bool:
        """Turns owed to this follower that will be pushed too (kept while the bot was down)
        and are being run now; waiting for them saves quota. Never longer than MERGE_WAIT."""
        now = utcnow()
        if (as_utc(oldest.created_at) or now) < now - MERGE_WAIT:
            return False
        owed = session.scalar(
            select(InboundMessage.id)
            .where(
                InboundMessage.conversation_id == f"wx:{openid}",
                InboundMessage.delivery == "push",
                InboundMessage.status != "done",
                or_(InboundMessage.status == "processing", InboundMessage.next_attempt_at <= now),
            )
            .limit(1)
        )
        return owed is not None

    def _postpone(self, pack: list[OutboxMessage], code: int | None) -> None:
        for row in pack:
            row.attempts += 1
            row.error_code = code
            if row.attempts >= MAX_ATTEMPTS:  # kept for the next contact, not dropped
                row.status = "held"
            else:
                delay = min(300.0, self._retry_interval_s * 2**row.attempts)
                row.next_attempt_at = utcnow() + timedelta(seconds=delay)


def _packs(rows: list[OutboxMessage]) -> list[list[OutboxMessage]]:
    """Consecutive rows merged while the text stays within one message; an expert's line
    (``chat_message_id``) is a message of its own."""
    packs: list[list[OutboxMessage]] = []
    size = 0
    for index, row in enumerate(rows):
        length = len(row.content.encode())
        alone = row.chat_message_id is not None or (
            index > 0 and rows[index - 1].chat_message_id is not None
        )
        if packs and not alone and size + 2 + length <= TEXT_LIMIT - NOTE_ROOM:
            packs[-1].append(row)
            size += 2 + length
        else:
            packs.append([row])
            size = length
    return packs


def _hold(rows: list[OutboxMessage], code: int | None) -> None:
    for row in rows:
        row.status = "held"
        if code is not None:
            row.error_code = code


def _mark_sent(pack: list[OutboxMessage], code: int | None) -> None:
    for row in pack:
        row.status, row.sent_at, row.error_code = "sent", utcnow(), code
