"""The review queue: entries whose review is due or that rest on a withdrawn source.

An entry citing a withdrawn standard or regulation is *marked for review*: search and
recommendation stop serving it (``Entry.under_review``) until its owner updates the source
(or removes the ``withdrawn`` date) — it is never served silently. Overdue reviews stay
servable but are listed here for their owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from knowledge.schema import EntryBase


@dataclass(frozen=True)
class ReviewItem:
    entry_id: str
    kind: str
    title: str
    owner: str
    review_due: date
    reasons: tuple[str, ...]
    withheld: bool  # not served by search while it rests on a withdrawn source

    def line(self) -> str:
        state = "（暂停检索服务）" if self.withheld else ""
        return f"{self.entry_id} {self.title}{state}：" + "；".join(self.reasons)


def review_item(entry: EntryBase, today: date) -> ReviewItem | None:
    """Why ``entry`` needs its owner's review today, or None when it does not."""
    reasons = [
        f"引用的 {source.label()}已于 {source.withdrawn} 废止"
        for source in entry.withdrawn_sources(today)
    ]
    if entry.review_due <= today:
        reasons.append(f"复审到期（{entry.review_due}）")
    if not reasons:
        return None
    return ReviewItem(
        entry_id=entry.id,
        kind=entry.kind,
        title=entry.title,
        owner=entry.owner,
        review_due=entry.review_due,
        reasons=tuple(reasons),
        withheld=entry.under_review(today),
    )


def review_queue(
    entries: Iterable[EntryBase], today: date, *, owner: str | None = None
) -> list[ReviewItem]:
    """Entries needing review, withheld ones first, then by review date and id."""
    items = [item for entry in entries if (item := review_item(entry, today)) is not None]
    if owner:
        items = [item for item in items if item.owner == owner]
    return sorted(items, key=lambda i: (not i.withheld, i.review_due, i.entry_id))
