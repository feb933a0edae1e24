"""What the bot could not answer, recorded through the desk by the bot's actions, and grouped
by normalised text: the list staff turn into new knowledge.

The bot reports one user message once (its Rasa message id), so a retried request adds nothing.
Personal numbers are masked before anything is stored.
"""

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk.clock import as_utc
from desk.reports.models import KIND_LABELS, UnansweredQuery
from desk.reports.schemas import UnansweredCreate, UnansweredGroup
from desk.reports.service import local_date, window
from knowledge.personal_data import mask_text

NORMALISED_MAX = 200
# everything that is not a letter, digit or CJK character; the masks' asterisks go too
_NOISE = re.compile(r"[^\w\u4e00-\u9fff]|_", re.UNICODE)
_FILLERS = ("请问一下", "请问", "你好", "您好", "麻烦问一下", "想问一下", "我想问", "一下")


def normalise(text: str) -> str:
    """The grouping key: width- and case-folded, without spaces, punctuation and polite openers
    (请问、您好 …), so 「请问 CMA 怎么办？」 and 「cma怎么办」 fall together."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    key = _NOISE.sub("", folded)
    for filler in _FILLERS:
        if key.startswith(filler) and len(key) > len(filler):
            key = key[len(filler) :]
    return key[:NORMALISED_MAX] or folded.strip()[:NORMALISED_MAX]


def record(session: Session, *, data: UnansweredCreate) -> tuple[UnansweredQuery, bool]:
    """Store one unanswered message; (row, False) when the bot already reported it."""
    query = select(UnansweredQuery).where(
        UnansweredQuery.conversation_id == data.conversation_id,
        UnansweredQuery.message_id == data.message_id,
    )
    if (existing := session.scalar(query)) is not None:
        return existing, False
    text = mask_text(data.text.strip())
    row = UnansweredQuery(
        conversation_id=data.conversation_id,
        message_id=data.message_id,
        channel=data.channel,
        kind=data.kind,
        text=text,
        normalised=normalise(text),
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


@dataclass
class _Group:
    key: str
    count: int = 0
    conversations: set[str] = field(default_factory=set)
    kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    texts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    first: datetime | None = None
    last: datetime | None = None


def groups(session: Session, *, start: date, end: date, limit: int = 200) -> list[UnansweredGroup]:
    """The period's unanswered messages grouped by normalised text, most frequent first."""
    lower, upper = window(start, end)
    rows = session.execute(
        select(
            UnansweredQuery.normalised,
            UnansweredQuery.text,
            UnansweredQuery.kind,
            UnansweredQuery.conversation_id,
            UnansweredQuery.created_at,
        ).where(UnansweredQuery.created_at >= lower, UnansweredQuery.created_at < upper)
    )
    found: dict[str, _Group] = {}
    for row in rows:
        at = as_utc(row.created_at)
        assert at is not None
        if not start <= local_date(at, naive_is_utc=True) <= end:
            continue
        group = found.setdefault(row.normalised, _Group(row.normalised))
        group.count += 1
        group.conversations.add(row.conversation_id)
        group.kinds[row.kind] += 1
        group.texts[row.text] += 1
        group.first = at if group.first is None else min(group.first, at)
        group.last = at if group.last is None else max(group.last, at)
    ordered = sorted(found.values(), key=lambda g: (-g.count, -len(g.conversations), g.key))
    return [
        UnansweredGroup(
            key=g.key,
            text=max(g.texts.items(), key=lambda item: (item[1], -len(item[0])))[0],
            count=g.count,
            conversations=len(g.conversations),
            kinds=[KIND_LABELS.get(k, k) for k in sorted(g.kinds, key=lambda k: -g.kinds[k])],
            variants=len(g.texts),
            first_at=g.first,
            last_at=g.last,
        )
        for g in ordered[:limit]
        if g.first is not None and g.last is not None
    ]
