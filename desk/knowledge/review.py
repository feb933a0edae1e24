"""The review queue: drafts from experts and staff, and entries due for review."""

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk import audit
from desk.consultations.models import KnowledgeDraft
from desk.errors import DeskError, NotFound
from desk.knowledge import service
from desk.knowledge.models import KnowledgeEntry
from knowledge.review import ReviewItem, review_queue

DEFAULT_OWNER = "平台运营组"


class AlreadyDecided(DeskError):
    code = "draft_decided"
    status = 409


def open_drafts(session: Session) -> list[KnowledgeDraft]:
    stmt = select(KnowledgeDraft).where(KnowledgeDraft.status == "draft")
    return list(session.scalars(stmt.order_by(KnowledgeDraft.id)))


def due_entries(session: Session, *, today: date) -> list[ReviewItem]:
    """Entries resting on a withdrawn standard (held back) first, then overdue reviews."""
    entries = [service.entry_of(row) for row in session.scalars(select(KnowledgeEntry))]
    return review_queue((e for e in entries if e.status != "withdrawn"), today)


def suggestion(draft: KnowledgeDraft, *, today: date) -> dict[str, Any]:
    """The FAQ entry a draft would become, for the staff member to edit before approving."""
    return {
        "kind": "faq",
        "id": f"faq-draft-{draft.id}",
        "title": draft.question,
        "answer": draft.answer,
        "owner": DEFAULT_OWNER,
        "review_due": (today + timedelta(days=365)).isoformat(),
        "status": "published",
        "variants": [],
        "keywords": [],
        "sources": [],
    }


def add_draft(
    session: Session, *, question: str, answer: str, domain: str | None, actor: str
) -> KnowledgeDraft:
    draft = KnowledgeDraft(question=question, answer=answer, domain=domain, author=actor)
    session.add(draft)
    session.flush()
    audit.record(
        session, actor=actor, action="knowledge.draft", subject=f"draft-{draft.id}", details={}
    )
    session.commit()
    return draft


def _open(session: Session, draft_id: int) -> KnowledgeDraft:
    draft = session.get(KnowledgeDraft, draft_id, with_for_update=True)
    if draft is None:
        raise NotFound(f"没有编号为 {draft_id} 的知识草稿。")
    if draft.status != "draft":
        raise AlreadyDecided(f"该草稿已由 {draft.decided_by} 处理。")
    return draft


def approve(
    session: Session, *, draft_id: int, payload: dict[str, Any], actor: str, today: date
) -> KnowledgeEntry:
    """The draft, as edited, becomes a new entry (version 1); the draft is closed with it."""
    draft = _open(session, draft_id)
    draft.status, draft.decided_by = "approved", actor
    draft.reason = f"已采纳为 {payload.get('id')}"
    audit.record(
        session,
        actor=actor,
        action="knowledge.draft_approve",
        subject=f"draft-{draft_id}",
        details={"entry": payload.get("id")},
    )
    return service.create_entry(session, data=payload, actor=actor, today=today, action="review")


def dismiss(session: Session, *, draft_id: int, reason: str, actor: str) -> KnowledgeDraft:
    draft = _open(session, draft_id)
    draft.status, draft.decided_by, draft.reason = "dismissed", actor, reason
    audit.record(
        session,
        actor=actor,
        action="knowledge.draft_dismiss",
        subject=f"draft-{draft_id}",
        details={"reason": reason},
    )
    session.commit()
    return draft
