"""Case notices that could not reach the enterprise when they were due, kept for its next contact.

A WeChat follower outside the 48-hour window whom no template can reach (none configured, the
template refused, WeChat unreachable, the follower left) is told nothing at the time; the notice
is kept here, never dropped. The next message the enterprise sends — in that conversation or in
another conversation of the same customer, WeChat or web — shows it first (a ``system`` line
with its buttons, handed to that channel), it is marked shown, and the case's timeline says so.
A conditional UPDATE makes each notice shown once, whichever process accepts the message.
"""

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from channels import transcript
from channels.contracts import Deliverer, Incoming
from channels.models import utcnow
from channels.wechat.window import NO_CONTACT
from desk import cases
from desk.case_notices import CaseNotice
from desk.complaints.models import Complaint
from desk.complaints.service import COMPLAINTS
from desk.customers import review_notices
from desk.customers.service import linked_conversations
from desk.db import Base
from desk.demands.models import Demand
from desk.demands.service import DEMANDS

log = logging.getLogger(__name__)

SHOWN = "已在企业再次发来消息时告知：“{status}”（此前未能送达）。"
LATER_NOTE = "（此消息因当时无法送达而为您保留）"


class KeptNotice(Base):
    __tablename__ = "kept_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(80), index=True)
    case_kind: Mapped[str] = mapped_column(String(16))  # demand | complaint | review
    number: Mapped[str] = mapped_column(String(20))
    status_label: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    shown_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    shown_in: Mapped[str | None] = mapped_column(String(80))


def keep(session: Session, notice: CaseNotice, *, reason: str) -> None:
    """Inside the desk's transaction: the notice waits for the next contact."""
    session.add(
        KeptNotice(
            conversation_id=notice.conversation_id,
            case_kind=notice.case_kind,
            number=notice.number,
            status_label=notice.status_label,
            text=notice.text,
            buttons=[dict(b) for b in notice.buttons],
            reason=reason,
            created_at=utcnow(),
        )
    )


def waiting(session: Session, *, conversation_id: str) -> list[KeptNotice]:
    """Notices not yet shown, for this conversation or its customer's other ones."""
    conversations = linked_conversations(session, conversation_id=conversation_id)
    return list(
        session.scalars(
            select(KeptNotice)
            .where(KeptNotice.conversation_id.in_(conversations), KeptNotice.shown_at.is_(None))
            .order_by(KeptNotice.id)
        )
    )


def _timeline(session: Session, kept: KeptNotice) -> None:
    if kept.case_kind == "review":  # a registration's result: the review says it was shown
        review_notices.shown_later(
            session, number=kept.number, conversation_id=kept.shown_in or kept.conversation_id
        )
        return
    kind: cases.CaseKind[Any] = DEMANDS if kept.case_kind == "demand" else COMPLAINTS
    table: type[Demand] | type[Complaint] = Demand if kept.case_kind == "demand" else Complaint
    case = session.scalar(select(table).where(table.number == kept.number))
    if case is None:
        return
    cases.record_step(
        session,
        kind,
        case,
        actor="system",
        note=SHOWN.format(status=kept.status_label),
        action="notice",
        details={"how": "next_contact", "conversation_id": kept.shown_in},
    )


def release(
    session: Session, incoming: Incoming, deliverers: Mapping[str, Deliverer]
) -> list[dict[str, Any]]:
    """Inside the transaction accepting the enterprise's message: its kept notices as system
    lines of this conversation, handed to its channel; each marked shown once."""
    if incoming.kind in NO_CONTACT:  # leaving, opening a menu link, a location report
        return []
    shown: list[dict[str, Any]] = []
    for kept in waiting(session, conversation_id=incoming.conversation_id):
        won = session.execute(
            update(KeptNotice)
            .where(KeptNotice.id == kept.id, KeptNotice.shown_at.is_(None))
            .values(shown_at=utcnow(), shown_in=incoming.conversation_id)
        )
        if not won.rowcount:  # type: ignore[attr-defined]
            continue  # another process showed it
        kept.shown_in = incoming.conversation_id
        row = transcript.record(
            session,
            conversation_id=incoming.conversation_id,
            channel=incoming.channel,
            sender="system",
            text=kept.text + LATER_NOTE,
            payload={"notice": "case", "case": kept.number, "buttons": list(kept.buttons)},
        )
        session.flush()
        _timeline(session, kept)
        shown.append(transcript.public(row))
        log.info("kept notice shown case=%s conversation=%s", kept.number, kept.shown_in)
    deliverer = deliverers.get(incoming.channel)
    if shown and deliverer is not None:
        deliverer.enqueue(
            session, conversation_id=incoming.conversation_id, messages=shown, inbound_id=None
        )
    return shown
