"""Complaint use cases (§7.4); keyword-only, free of HTTP."""

import logging
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from desk import audit, cases
from desk.calendar.service import load_calendar
from desk.case_lookup.links import linked_numbers
from desk.clock import now
from desk.complaints.follow_up import code_hash, new_code
from desk.complaints.matching import match_institution
from desk.complaints.models import (
    CHANNEL_LABELS,
    OPEN_STATUSES,
    STATUS_LABELS,
    TRANSITIONS,
    TYPE_LABELS,
    Complaint,
    ComplaintEvent,
    is_overdue,
    satisfaction_label,
)
from desk.complaints.schemas import ComplaintCreate, ComplaintPublic, ComplaintTransition
from desk.customers.service import linked_conversations
from desk.errors import DeskError, InvalidInput, NotFound
from desk.improvements import service as improvements
from desk.numbering import next_number
from desk.sla import COMPLAINT_WORKING_DAYS
from knowledge.personal_data import mask_mobile
from knowledge.schema import Institution

log = logging.getLogger(__name__)

BACKDATE_LIMIT = timedelta(days=365)
COMPLAINTS = cases.CaseKind[Complaint](
    name="complaint",
    noun="投诉",
    transitions=TRANSITIONS,
    labels=STATUS_LABELS,
    step=ComplaintEvent,
    step_owner=ComplaintEvent.complaint_id,
    subject=lambda complaint: complaint.number,
)


class IdempotencyConflict(DeskError):
    code = "idempotency_conflict"
    status = 409


def public(complaint: Complaint, *, today: date, masked: bool = False) -> ComplaintPublic:
    view = ComplaintPublic.model_validate(complaint)
    view.channel_label = CHANNEL_LABELS[complaint.channel]
    view.complaint_type_label = TYPE_LABELS[complaint.complaint_type]
    view.status_label = STATUS_LABELS[complaint.status]
    view.overdue = is_overdue(complaint, today=today)
    view.satisfaction_label = satisfaction_label(complaint)
    if masked and complaint.contact_mobile:
        view.contact_mobile = mask_mobile(complaint.contact_mobile)
    return view


def published_institutions() -> list[Institution]:
    """Institutions of the knowledge base; none (so no link) when it cannot be read."""
    from knowledge.store import KnowledgeError
    from retrieval.live import live_knowledge

    try:
        return [i for i in live_knowledge().institutions if i.status == "published"]
    except KnowledgeError:
        log.warning("knowledge base unreadable; complaint institutions stay unlinked")
        return []


def find_by_key(session: Session, *, idempotency_key: str | None) -> Complaint | None:
    if not idempotency_key:
        return None
    return session.scalar(select(Complaint).where(Complaint.idempotency_key == idempotency_key))


def _repeat(
    session: Session, *, existing: Complaint, data: ComplaintCreate, actor: str
) -> tuple[Complaint, bool, str | None]:
    """A repeated request: the first complaint; an anonymous one gets a fresh follow-up code,
    since the caller who repeats never saw the first (the old code stops working)."""
    if existing.conversation_id != data.conversation_id:
        raise IdempotencyConflict("该幂等键已用于另一会话的投诉。")
    if existing.follow_up_code_hash is None:
        return existing, False, None
    code = new_code()
    existing.follow_up_code_hash = code_hash(code)
    audit.record(session, actor=actor, action="complaint.reissue_code", subject=existing.number)
    session.commit()
    return existing, False, code


def create_complaint(
    session: Session,
    *,
    data: ComplaintCreate,
    idempotency_key: str | None,
    today: date,
    actor: str,
    institutions: Sequence[Institution] | None = None,
) -> tuple[Complaint, bool, str | None]:
    """Take a complaint; returns (complaint, created, follow-up code or None).

    A complaint without a mobile number gets a follow-up code (returned here only, stored as a
    hash). A repeated idempotency key returns the first complaint.
    """
    if existing := find_by_key(session, idempotency_key=idempotency_key):
        return _repeat(session, existing=existing, data=data, actor=actor)
    received_on = data.received_on or today
    if received_on > today or received_on < today - BACKDATE_LIMIT:
        raise InvalidInput("受理日期不能晚于今天，也不能早于一年前。", code="received_on_invalid")
    if institutions is None:
        institutions = published_institutions()
    match = match_institution(data.institution_name, institutions)
    code = new_code() if data.contact_mobile is None else None
    complaint = Complaint(
        **data.model_dump(exclude={"received_on"}),
        number=next_number(session, f"TS{today:%Y%m%d}-"),
        status="received",
        institution_id=match.institution_id if match else None,
        institution_title=match.title if match else None,
        follow_up_code_hash=code_hash(code) if code else None,
        received_on=received_on,
        investigation_due=load_calendar(session).add_working_days(
            received_on, COMPLAINT_WORKING_DAYS
        ),
        idempotency_key=idempotency_key,
    )
    masked = mask_mobile(complaint.contact_mobile) if complaint.contact_mobile else None
    complaint, created = cases.open_case(
        session,
        COMPLAINTS,
        complaint,
        actor=actor,
        note="投诉已受理",
        details={
            "conversation_id": complaint.conversation_id,
            "channel": complaint.channel,
            "type": complaint.complaint_type,
            "institution_id": complaint.institution_id,
            "contact_mobile": masked,
            "anonymous": code is not None,
        },
        winner=lambda: find_by_key(session, idempotency_key=idempotency_key),
    )
    if not created:  # a concurrent request with the same key won
        return _repeat(session, existing=complaint, data=data, actor=actor)
    log.info(
        "complaint received number=%s conversation=%s channel=%s type=%s institution=%s mobile=%s",
        complaint.number,
        complaint.conversation_id,
        complaint.channel,
        complaint.complaint_type,
        complaint.institution_id,
        masked,
    )
    return complaint, True, code


def list_complaints(
    session: Session,
    *,
    conversation_id: str | None = None,
    status: str | None = None,
    overdue_on: date | None = None,
    limit: int = 100,
) -> list[Complaint]:
    """Newest first; ``overdue_on`` keeps those still unresolved after their due date."""
    query = select(Complaint).order_by(Complaint.id.desc()).limit(limit)
    if conversation_id:
        query = query.where(
            Complaint.conversation_id.in_(
                linked_conversations(session, conversation_id=conversation_id)
            )
            | Complaint.number.in_(linked_numbers(session, conversation_id=conversation_id))
        )
    if status:
        query = query.where(Complaint.status == status)
    if overdue_on is not None:
        query = query.where(
            Complaint.status.in_(OPEN_STATUSES), Complaint.investigation_due < overdue_on
        )
    return list(session.scalars(query))


def get_complaint(session: Session, *, number: str) -> Complaint:
    complaint = session.scalar(select(Complaint).where(Complaint.number == number))
    if complaint is None:
        raise NotFound(f"未找到编号为 {number} 的投诉。")
    return complaint


def transition(
    session: Session,
    *,
    number: str,
    change: ComplaintTransition,
    actor: str,
    institutions: Sequence[Institution] | None = None,
) -> Complaint:
    complaint = get_complaint(session, number=number)
    cases.ensure_allowed(COMPLAINTS, complaint, to=change.to)
    moment = now()
    if change.to == "forwarded":
        if change.institution_id:
            if institutions is None:
                institutions = published_institutions()
            chosen = next((i for i in institutions if i.id == change.institution_id), None)
            if chosen is None:
                raise InvalidInput(
                    f"知识库中没有编号为 {change.institution_id} 的服务机构。",
                    code="institution_unknown",
                )
            complaint.institution_id, complaint.institution_title = chosen.id, chosen.title
        complaint.forwarded_at = moment
    elif change.to == "resolved":
        resolution = (change.resolution or "").strip()
        if not resolution:
            raise InvalidInput("办结投诉时请填写处理意见。", code="resolution_required")
        complaint.resolution = resolution
        complaint.resolved_at = moment
        complaint.satisfaction = complaint.satisfaction_at = None  # a new outcome, asked anew
    elif change.to == "informed":
        complaint.informed_at = moment
    cases.transition(
        session,
        COMPLAINTS,
        complaint,
        to=change.to,
        actor=actor,
        note=change.note,
        details={
            "from": complaint.status,
            "to": change.to,
            "institution_id": complaint.institution_id,
        },
    )
    if change.to == "resolved" and change.upheld:
        improvements.open_for_complaint(session, complaint=complaint, actor=actor)
    session.commit()
    return complaint


REOPEN_FROM = ("resolved", "informed")  # §8.2: a complainant not satisfied with the outcome


def reopen(session: Session, *, number: str, reason: str, actor: str, today: date) -> Complaint:
    """The complainant is not satisfied: back to investigation, with a new 7-working-day
    deadline from today; the earlier outcome stays on the timeline."""
    complaint = get_complaint(session, number=number)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("请写明投诉人对处理结果不满意的原因。", code="reason_required")
    cases.reopen(
        session,
        COMPLAINTS,
        complaint,
        to="investigating",
        from_statuses=REOPEN_FROM,
        actor=actor,
        note=f"投诉人对处理结果不满意，要求重新处理：{reason}",
        refusal="该投诉尚未办结，正在处理中，无需重新处理。",
    )
    complaint.investigation_due = load_calendar(session).add_working_days(
        today, COMPLAINT_WORKING_DAYS
    )
    complaint.resolved_at = complaint.informed_at = None
    complaint.satisfaction, complaint.satisfaction_at = "unsatisfied", now()
    session.commit()
    return complaint


def events(session: Session, *, number: str) -> list[ComplaintEvent]:
    return cases.timeline(session, COMPLAINTS, get_complaint(session, number=number))


SATISFIED_NOTE = "投诉人对处理结果表示满意。"


def record_satisfied(session: Session, *, number: str, actor: str) -> Complaint:
    """The complainant is satisfied with the outcome (§7.4.3): the complaint's satisfaction and
    a step on the timeline, once however often it is said."""
    complaint = get_complaint(session, number=number)
    if complaint.status not in REOPEN_FROM:
        raise cases.IllegalTransition("该投诉尚未办结，暂不能评价处理结果。")
    won = session.execute(  # conditional: two answers at once record one
        update(Complaint)
        .where(
            Complaint.id == complaint.id,
            or_(Complaint.satisfaction.is_(None), Complaint.satisfaction != "satisfied"),
        )
        .values(satisfaction="satisfied", satisfaction_at=now())
        .execution_options(synchronize_session="fetch")
    )
    if won.rowcount:  # type: ignore[attr-defined]
        cases.record_step(
            session,
            COMPLAINTS,
            complaint,
            actor=actor,
            note=SATISFIED_NOTE,
            action="satisfied",
            details={"status": complaint.status},
        )
        session.commit()
    return complaint
