"""The schedule of owed bot turns in ``chat_inbound``: plain functions taking a Session.

Which turn is owed next, the lease that gives a row to one process at a time (a conditional
UPDATE of ``status``/``lease_until``), how a leased turn starts (sent, or looked up in Rasa's
tracker after a timeout), and when a failed one is tried again. None of them commits.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from channels.models import InboundMessage, as_utc, utcnow

# send: marked sent, go to the bot; look: the bot may have run it, look in its tracker first;
# settling: too soon to look (released again); taken: leased elsewhere or not due
Start = Literal["send", "look", "settling", "taken"]


ARRIVALS_LOCK = 0x51C1  # the advisory-lock namespace of per-conversation arrivals


def hold_conversation(session: Session, conversation_id: str) -> None:
    """Make this transaction the conversation's only accepting one until it ends.

    On PostgreSQL a transaction-scoped advisory lock per conversation: a message accepted on
    another replica at the same moment waits for this commit, so the ids of a conversation's
    rows follow their arrival and each sees the older ones (READ COMMITTED would hide an
    uncommitted older row, and both would think nothing older is owed). SQLite needs nothing:
    the row's INSERT takes the database's one write lock, which lasts until the commit.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = func.hashtext(conversation_id)
        session.execute(select(func.pg_advisory_xact_lock(ARRIVALS_LOCK, key)))


@dataclass(frozen=True)
class Turn:
    """The bot turn a row is owed, as the runner needs it."""

    inbound_id: int
    conversation_id: str
    channel: str
    bot_text: str
    key: str  # tags the turn in Rasa's tracker, to find it again after a timeout

    @classmethod
    def of(cls, row: InboundMessage) -> "Turn":
        assert row.bot_text is not None
        created = as_utc(row.created_at) or utcnow()
        return cls(
            row.id,
            row.conversation_id,
            row.channel,
            row.bot_text,
            f"in-{row.id}-{created.timestamp():.0f}",
        )


def begin_turn(
    session: Session,
    inbound_id: int,
    *,
    lease: timedelta | None,
    ignore_schedule: bool,
    settle: timedelta,
) -> tuple[Start, Turn | None]:
    """Lease the row (unless ``lease`` is None: already ours) and decide how its turn starts."""
    now = utcnow()
    if lease is not None and not _lease(session, inbound_id, now + lease, ignore_schedule):
        return "taken", None
    row = session.get(InboundMessage, inbound_id)
    assert row is not None
    turn = Turn.of(row)
    if row.sent_at is None:
        row.sent_at = now
        return "send", turn
    if now - (as_utc(row.sent_at) or now) < settle:  # Rasa may still be on it
        release(session, inbound_id)
        return "settling", turn
    return "look", turn


def _lease(session: Session, inbound_id: int, until: datetime, ignore_schedule: bool) -> bool:
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
    result = session.execute(
        update(InboundMessage).where(*conditions).values(status="processing", lease_until=until)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_sent(session: Session, inbound_id: int) -> None:
    session.execute(
        update(InboundMessage).where(InboundMessage.id == inbound_id).values(sent_at=utcnow())
    )


def postpone(
    session: Session, inbound_id: int, *, uncertain: bool, interval_s: float, settle: timedelta
) -> None:
    row = session.get(InboundMessage, inbound_id)
    assert row is not None
    row.attempts += 1
    delay = min(60.0, interval_s * 2 ** min(row.attempts - 1, 6))
    row.status, row.lease_until = "pending", None
    row.next_attempt_at = utcnow() + timedelta(seconds=delay)
    if uncertain:  # look in Rasa's tracker once it has surely finished
        row.next_attempt_at = max(row.next_attempt_at, utcnow() + settle)
    else:
        row.sent_at = None


def release(session: Session, inbound_id: int) -> None:
    session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == inbound_id, InboundMessage.status == "processing")
        .values(status="pending", lease_until=None)
    )


def next_owed(
    session: Session, conversation_id: str, *, after: int, before: int | None
) -> int | None:
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


def due_conversations(session: Session) -> list[str]:
    now = utcnow()
    query = (
        select(InboundMessage.conversation_id)
        .where(
            or_(
                (InboundMessage.status == "pending")
                & or_(
                    InboundMessage.next_attempt_at.is_(None),
                    InboundMessage.next_attempt_at <= now,
                ),
                (InboundMessage.status == "processing") & (InboundMessage.lease_until < now),
            )
        )
        .distinct()
        .limit(200)
    )
    return list(session.scalars(query))
