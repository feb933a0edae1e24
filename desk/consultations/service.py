"""One consultation as the console shows it, and what an expert adds besides replies: private
notes, knowledge drafts, suggested answers. Keyword-only, free of HTTP."""

import logging
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk import audit
from desk.clock import as_utc
from desk.complaints import service as complaints
from desk.complaints.models import STATUS_LABELS as COMPLAINT_LABELS
from desk.consultations.models import ConsultationNote, KnowledgeDraft
from desk.consultations.ports import ConversationPort
from desk.consultations.schemas import (
    ComplaintCard,
    ConsultationView,
    CustomerCard,
    DemandCard,
    NeedSummary,
    Suggestion,
    TranscriptLine,
)
from desk.customers import consents
from desk.customers import service as customers
from desk.demands import service as demands
from desk.demands.models import STATUS_LABELS as DEMAND_LABELS
from desk.escalations import service as escalations
from desk.escalations.models import Escalation
from desk.live import events
from desk.masking import sees_personal_data
from desk.users.service import display_names
from retrieval.live import live_knowledge
from retrieval.search import IndexMissing, get_searcher

log = logging.getLogger(__name__)
SUGGESTION_KINDS = (("faq", 3), ("service", 2), ("institution", 1))


def note_line(note: ConsultationNote, names: dict[str, str]) -> TranscriptLine:
    """A note in the transcript's shape; negative ids never collide with transcript lines."""
    return TranscriptLine(
        id=-note.id,
        sender="note",
        text=note.text,
        created_at=as_utc(note.created_at) or note.created_at,
        author=note.author,
        author_name=names.get(note.author, note.author),
    )


def transcript(
    session: Session, *, escalation: Escalation, port: ConversationPort
) -> list[TranscriptLine]:
    """Both channels' lines and the private notes, oldest first, with authors' names."""
    names = display_names(session)
    lines = port.transcript(session, conversation_id=escalation.conversation_id)
    for line in lines:
        if line.author and not line.author_name:
            line.author_name = names.get(line.author, line.author)
    notes = session.scalars(
        select(ConsultationNote).where(
            ConsultationNote.conversation_id == escalation.conversation_id
        )
    )
    lines += [note_line(n, names) for n in notes]
    lines.sort(key=lambda line: (as_utc(line.created_at), abs(line.id)))
    return lines


def add_note(session: Session, *, escalation: Escalation, author: str, text: str) -> TranscriptLine:
    note = ConsultationNote(
        escalation_id=escalation.id,
        conversation_id=escalation.conversation_id,
        author=author,
        text=text.strip(),
        created_at=datetime.now(UTC),
    )
    session.add(note)
    session.flush()
    session.refresh(note)
    line = note_line(note, display_names(session))
    events.publish(
        session,
        kind="message",
        escalation_id=escalation.id,
        conversation_id=escalation.conversation_id,
        data={
            "conversation_id": escalation.conversation_id,
            "escalation_id": escalation.id,
            "message": line.model_dump(mode="json"),
        },
    )
    session.commit()
    return line


def need_summary(escalation: Escalation) -> NeedSummary | None:
    need = escalation.need or {}
    if not need and not escalation.summary:
        return None
    return NeedSummary(
        domain=need.get("domain") or escalation.domain,
        product=need.get("product"),
        place=need.get("place"),
        urgency=need.get("urgency"),
        contact_masked=need.get("contact_masked"),
        text=escalation.summary or None,
    )


def customer_card(session: Session, *, conversation_id: str, role: str) -> CustomerCard | None:
    customer = customers.customer_for_conversation(session, conversation_id=conversation_id)
    if customer is None:
        return None
    consent = consents.latest_consent(session, conversation_id=conversation_id)
    view = customers.public(customer, conversation_ids=[], masked=not sees_personal_data(role))
    return CustomerCard(
        id=view.id,
        name=view.name,
        kind=view.kind_label or view.kind,
        credit_code_masked=view.credit_code,
        verification=view.verification,
        verification_label=view.verification_label,
        consent=bool(consent is not None and consent.agreed),
    )


def demand_cards(session: Session, *, conversation_id: str, today: date) -> list[DemandCard]:
    knowledge = live_knowledge()
    cards = []
    for demand in demands.list_demands(session, conversation_id=conversation_id, limit=20):
        view = demands.public(demand, today=today, masked=True)
        service = knowledge.get(view.service_ids[0]) if view.service_ids else None
        cards.append(
            DemandCard(
                number=view.number,
                status=view.status,
                status_label=view.status_label or DEMAND_LABELS.get(view.status, view.status),
                service_title=service.title if service is not None else None,
                respond_by=view.respond_due.isoformat(),
                recommend_by=view.recommend_due.isoformat(),
                overdue=view.respond_overdue or view.recommend_overdue,
            )
        )
    return cards


def complaint_cards(session: Session, *, conversation_id: str, today: date) -> list[ComplaintCard]:
    cards = []
    for complaint in complaints.list_complaints(session, conversation_id=conversation_id, limit=20):
        view = complaints.public(complaint, today=today, masked=True)
        cards.append(
            ComplaintCard(
                number=view.number,
                status=view.status,
                status_label=view.status_label or COMPLAINT_LABELS.get(view.status, view.status),
                institution=view.institution_title or view.institution_name,
                deadline=view.investigation_due.isoformat(),
                overdue=view.overdue,
            )
        )
    return cards


def last_user_text(lines: list[TranscriptLine]) -> str:
    return next((line.text for line in reversed(lines) if line.sender == "user"), "")


def suggestions(text: str) -> list[Suggestion]:
    """What retrieval finds for the user's words: FAQ answers first, then services and
    institutions, each with the text an expert can insert into the reply."""
    if not text.strip():
        return []
    try:
        searcher = get_searcher()
    except IndexMissing:
        log.warning("suggestions unavailable: index missing")
        return []
    found: list[Suggestion] = []
    for kind, k in SUGGESTION_KINDS:
        for hit in searcher.search(text[:200], kind=kind, k=k):
            entry = hit.entry
            body = getattr(entry, "answer", None) or entry.summary()
            found.append(
                Suggestion(id=hit.id, kind=hit.kind, title=hit.title, text=body, score=hit.score)
            )
    return found


def save_knowledge_draft(
    session: Session, *, escalation: Escalation, question: str, answer: str, author: str
) -> KnowledgeDraft:
    """The staff review queue gets a draft FAQ from an expert's answer (never published here)."""
    draft = KnowledgeDraft(
        kind="faq",
        question=question.strip(),
        answer=answer.strip(),
        domain=escalation.domain,
        escalation_id=escalation.id,
        author=author,
        status="draft",
    )
    session.add(draft)
    session.flush()
    audit.record(
        session,
        actor=author,
        action="knowledge_draft.create",
        subject=f"knowledge_draft:{draft.id}",
        details={"escalation_id": escalation.id, "kind": "faq"},
    )
    session.commit()
    return draft


def view(
    session: Session, *, escalation: Escalation, port: ConversationPort, role: str, today: date
) -> ConsultationView:
    lines = transcript(session, escalation=escalation, port=port)
    public = escalations.public(escalation, names=display_names(session))
    public.last_message_at = next((ln.created_at for ln in reversed(lines) if ln.id > 0), None)
    cid = escalation.conversation_id
    return ConsultationView(
        escalation=public,
        transcript=lines,
        need_summary=need_summary(escalation),
        customer=customer_card(session, conversation_id=cid, role=role),
        demands=demand_cards(session, conversation_id=cid, today=today),
        complaints=complaint_cards(session, conversation_id=cid, today=today),
        window=port.window(session, conversation_id=cid, channel=escalation.channel),
    )
