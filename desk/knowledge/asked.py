"""The questions enterprises really ask: which FAQ entry answered which user message, and the
most asked ones over a recent window (猜你想问 in the bot's welcome).

The bot reports an answer once per user message (its Rasa message id); a retried report adds
nothing. Questions are ranked by the number of distinct conversations they answered, then by
the latest answer; only entries that are published and not held back for review are offered.
With no answers in the window the list is empty: nothing is made up.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk.clock import as_utc
from desk.knowledge.models import FaqAnswer, KnowledgeEntry
from desk.knowledge.service import entry_of

WINDOW_DAYS = 30
MAX_POPULAR = 10


@dataclass(frozen=True)
class Popular:
    faq_id: str
    question: str
    conversations: int
    last_answered: datetime | None


def record(
    session: Session, *, conversation_id: str, message_id: str, channel: str, faq_id: str
) -> tuple[FaqAnswer, bool]:
    """Store one answer; (row, False) when the bot already reported this message."""
    query = select(FaqAnswer).where(
        FaqAnswer.conversation_id == conversation_id, FaqAnswer.message_id == message_id
    )
    if (existing := session.scalar(query)) is not None:
        return existing, False
    row = FaqAnswer(
        conversation_id=conversation_id,
        message_id=message_id,
        channel=channel,
        faq_id=faq_id,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # the same report, committed by a concurrent request
        session.rollback()
        if (existing := session.scalar(query)) is not None:
            return existing, False
        raise
    return row, True


def popular(
    session: Session,
    *,
    today: date,
    days: int = WINDOW_DAYS,
    limit: int = 3,
    now: datetime | None = None,
) -> list[Popular]:
    """The FAQ entries that answered the most conversations in the last ``days`` days."""
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    conversations = func.count(func.distinct(FaqAnswer.conversation_id))
    latest = func.max(FaqAnswer.created_at)
    rows = session.execute(
        select(FaqAnswer.faq_id, conversations, latest)
        .where(FaqAnswer.created_at >= since)
        .group_by(FaqAnswer.faq_id)
        .order_by(conversations.desc(), latest.desc(), FaqAnswer.faq_id)
        .limit(limit * 3 + 10)  # room for entries withdrawn or held back since
    ).all()
    ids = [faq_id for faq_id, _, _ in rows]
    entries = {
        e.id: e
        for e in session.scalars(
            select(KnowledgeEntry).where(KnowledgeEntry.id.in_(ids), KnowledgeEntry.kind == "faq")
        )
    }
    out: list[Popular] = []
    for faq_id, count, last in rows:
        row = entries.get(faq_id)
        if row is None or row.status != "published":
            continue
        if entry_of(row).under_review(today):
            continue
        out.append(Popular(faq_id, row.title, int(count), as_utc(last)))
        if len(out) == limit:
            break
    return out
