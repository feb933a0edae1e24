"""The SQL steps of a message's life in ``chat_inbound``: plain functions taking a Session.

accept → (the turn, channels/schedule.py) → complete → claim the delivery → queue a push.

None of them commits: the caller makes each transaction, and steps that follow each other
without waiting for the bot share one. What makes them safe across processes is in the SQL:
the row's unique ``dedupe_key`` (a retried message is a duplicate), conditional UPDATEs for
the lease (``status``/``lease_until``) and for the delivery (``delivery`` is set once).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from channels import kept_notices, transcript, waiting
from channels.contracts import Deliverer, Incoming
from channels.gateway import BotMessage, channel_options
from channels.models import InboundMessage, utcnow
from channels.privacy import withdrawal as privacy
from channels.schedule import Turn, hold_conversation, next_owed
from channels.transcript import ChatMessage
from channels.waiting import WAITING_FOR_EXPERT
from desk.escalations.settings import ConsultationSettings

__all__ = ["WAITING_FOR_EXPERT", "Accepted", "Completed", "accept"]

NOTICE_LOOKBACK = 6  # lines since the user last wrote in which a notice is looked for

DIGITS = re.compile(r"^\s*(\d{1,2})\s*[.。、]?\s*$")


@dataclass(frozen=True)
class Accepted:
    inbound_id: int
    conversation_id: str
    turn: Turn | None  # None: no bot turn, ``messages`` (the local replies) answer, claimed
    messages: list[dict[str, Any]]
    older_owed: bool  # older messages of the conversation still wait for their turn
    started: bool  # nothing older owed: the row is already marked sent, the bot is next
    released: bool = False  # kept notices were handed to the channel: wake it after the commit


@dataclass(frozen=True)
class Completed:
    messages: list[dict[str, Any]]
    passive: bool  # claimed for the waiting HTTP answer in the same transaction
    queued: str | None  # the channel whose deliverer got the messages for a push


def expert_holds(session: Session, conversation_id: str) -> str | None:
    """The status of the conversation's active escalation (waiting, claimed), else None."""
    from desk.escalations.service import active_escalation

    escalation = active_escalation(session, conversation_id=conversation_id)
    return escalation.status if escalation is not None else None


def held_by_people(
    session: Session, incoming: Incoming, consultation: ConsultationSettings
) -> tuple[Incoming, dict[str, Any]]:
    """While people hold the conversation the bot stays quiet: a waiting escalation answers
    with a holding note (or closes on the user's cancel and gives the bot back), a claimed one
    lets the message through to the expert, unanswered."""
    from desk.escalations.service import active_escalation

    if incoming.bot_text is None:
        return incoming, {}
    escalation = active_escalation(session, conversation_id=incoming.conversation_id)
    if escalation is None:
        return incoming, {}
    answer = None
    if escalation.status == "waiting":
        answer = waiting.answer(
            session,
            escalation=escalation,
            text=incoming.text,
            moment=utcnow(),
            settings=consultation,
        )
    if answer is None:  # claimed: the expert's
        return replace(incoming, bot_text=None, local_replies=()), {}
    return replace(incoming, bot_text=None, local_replies=answer.replies), answer.payload


def accept(
    session: Session,
    incoming: Incoming,
    *,
    lease: timedelta,
    deliverers: Mapping[str, Deliverer],
    consultation: ConsultationSettings | None = None,
) -> Accepted | None:
    """Keep the message once (None: its dedupe key was seen), with the user's transcript row.

    While people hold the conversation the bot stays quiet (:func:`held_by_people`). A message
    without a bot turn is answered (and its delivery claimed) here; one with a turn is leased
    to this process and, when nothing older is owed, marked sent: the bot is called next, with
    no other step."""
    hold_conversation(session, incoming.conversation_id)  # arrivals in order, across replicas
    incoming, reply_payload = held_by_people(
        session, incoming, consultation or ConsultationSettings()
    )
    if incoming.numbered_options:
        incoming = choose(session, incoming)
    incoming = privacy.answer(incoming)  # 撤回授权: answered here, never by the bot
    now, bot = utcnow(), incoming.bot_text is not None
    row = InboundMessage(
        conversation_id=incoming.conversation_id,
        channel=incoming.channel,
        dedupe_key=incoming.dedupe_key,
        kind=incoming.kind,
        bot_text=incoming.bot_text,
        status="processing" if bot else "done",
        attempts=0,
        replies=[],
        created_at=now,
        lease_until=now + lease if bot else None,
        delivery=None if bot else "passive",
        done_at=None if bot else now,
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
    incoming = privacy.confirmed(session, incoming)  # a confirmed withdrawal, with the message
    deliverer = deliverers.get(incoming.channel)
    if deliverer is not None:
        deliverer.on_contact(session, incoming)
    released = bool(kept_notices.release(session, incoming, deliverers))  # not reached before
    if not bot:
        messages = _record_replies(
            session, row, incoming.local_replies, "system", extra=reply_payload
        )
        row.replies = messages
        return Accepted(row.id, row.conversation_id, None, messages, False, False, released)
    older_owed = next_owed(session, row.conversation_id, after=0, before=row.id) is not None
    if not older_owed:
        row.sent_at = now
    turn = Turn.of(row)
    return Accepted(row.id, row.conversation_id, turn, [], older_owed, not older_owed, released)


def choose(session: Session, incoming: Incoming) -> Incoming:
    """A digit answers the numbered options of the conversation's latest turn."""
    match = DIGITS.match(incoming.text)
    if not match or incoming.bot_text is None:
        return incoming
    buttons = notice_options(session, incoming.conversation_id)
    if not buttons:
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


def notice_options(session: Session, conversation_id: str) -> list[dict[str, str]]:
    """The answers of a case notice (an evaluation invitation, a complaint's outcome) shown since
    the user last wrote, unless a bot line with options of its own came after it: a digit
    answers the notice."""
    since_user = session.scalars(
        select(ChatMessage)
        .where(ChatMessage.conversation_id == conversation_id)
        .order_by(ChatMessage.id.desc())
        .limit(NOTICE_LOOKBACK)
    )
    for line in since_user:
        payload = line.payload or {}
        if line.sender == "user":
            break
        if payload.get("notice") == "case" and payload.get("buttons"):
            return list(payload["buttons"])
        if payload.get("buttons"):
            break  # newer options: the digit is theirs
    return []


def by_key(session: Session, key: str) -> InboundMessage | None:
    return session.scalars(select(InboundMessage).where(InboundMessage.dedupe_key == key)).first()


def complete(
    session: Session,
    inbound_id: int,
    replies: Sequence[BotMessage],
    *,
    claim_passive: bool,
    deliverers: Mapping[str, Deliverer],
    claim_push: bool = False,
) -> Completed:
    """The turn's replies into the transcript and the row; then its delivery: claimed for the
    waiting answer, or handed to the channel when a push was claimed (already, or now with
    ``claim_push``: nobody waits for the answer — its claim may have failed with the database)."""
    row = session.get(InboundMessage, inbound_id)
    assert row is not None
    if row.status == "done" and row.bot_text is not None:  # resolved elsewhere
        messages = list(row.replies)
    else:
        messages = _record_replies(session, row, replies, "bot")
        row.replies = messages
        row.status, row.done_at = "done", utcnow()
        row.sent_at = row.lease_until = row.next_attempt_at = None
        session.flush()
    passive = claim_passive and claim(session, inbound_id, "passive")
    if claim_push and not passive:
        claim(session, inbound_id, "push")
    return Completed(messages, passive, queue(session, inbound_id, deliverers))


def apologize(session: Session, inbound_id: int, text: str) -> dict[str, Any]:
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
    session.flush()
    return transcript.public(record)


def claim(session: Session, inbound_id: int, delivery: str) -> bool:
    """Decide how the result reaches the user (passive or push): once, whoever comes first."""
    result = session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == inbound_id, InboundMessage.delivery.is_(None))
        .values(delivery=delivery)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def queue(session: Session, inbound_id: int, deliverers: Mapping[str, Deliverer]) -> str | None:
    """push → queued once the result is there; the channel's deliverer gets it in the same
    transaction. Returns the channel when this call did it."""
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
        return None
    row = session.get(InboundMessage, inbound_id)
    assert row is not None
    deliverer = deliverers.get(row.channel)
    if deliverer is not None:
        deliverer.enqueue(
            session,
            conversation_id=row.conversation_id,
            messages=list(row.replies),
            inbound_id=row.id,
        )
    return row.channel


def _record_replies(
    session: Session,
    row: InboundMessage,
    replies: Sequence[BotMessage],
    sender: str,
    *,
    extra: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    records = [
        transcript.record(
            session,
            conversation_id=row.conversation_id,
            channel=row.channel,
            sender=sender,
            text=m.text,
            payload={**transcript.message_payload(m), **(extra or {}), "inbound_id": row.id},
        )
        for m in replies
    ]
    session.flush()
    return [transcript.public(r) for r in records]
