"""Complaint use cases (§7.4); keyword-only, free of HTTP."""

import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk import audit
from desk.calendar.service import load_calendar
from desk.clock import now
from desk.complaints.matching import match_institution
from desk.complaints.models import (
    CHANNEL_LABELS,
    OPEN_STATUSES,
    STATUS_LABELS,
    TRANSITIONS,
    TYPE_LABELS,
    Complaint,
    ComplaintEvent,
)
from desk.complaints.schemas import (
    ComplaintCreate,
    ComplaintPublic,
    ComplaintTransition,
    FollowUpPublic,
)
from desk.customers.service import linked_conversations
from desk.errors import DeskError, InvalidInput, NotFound
from desk.masking import mask_mobile
from desk.numbering import next_number
from desk.sla import COMPLAINT_WORKING_DAYS
from knowledge.schema import Institution

log = logging.getLogger(__name__)

FOLLOW_UP_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud safely
FOLLOW_UP_LENGTH = 8
BACKDATE_LIMIT = timedelta(days=365)
_DUMMY_HASH = hashlib.sha256(b"no follow-up code").hexdigest()


class IllegalTransition(DeskError):
    code = "illegal_transition"
    status = 409


class IdempotencyConflict(DeskError):
    code = "idempotency_conflict"
    status = 409


def is_overdue(complaint: Complaint, *, today: date) -> bool:
    """§7.4.3: not yet resolved after the 7 working days."""
    return complaint.status in OPEN_STATUSES and today > complaint.investigation_due


def public(complaint: Complaint, *, today: date, masked: bool = False) -> ComplaintPublic:
    view = ComplaintPublic.model_validate(complaint)
    view.channel_label = CHANNEL_LABELS[complaint.channel]
    view.complaint_type_label = TYPE_LABELS[complaint.complaint_type]
    view.status_label = STATUS_LABELS[complaint.status]
    view.overdue = is_overdue(complaint, today=today)
    if masked and complaint.contact_mobile:
        view.contact_mobile = mask_mobile(complaint.contact_mobile)
    return view


def published_institutions() -> list[Institution]:
    """Institutions of the knowledge base; none (so no link) when it cannot be read."""
    from knowledge.store import KnowledgeError, get_knowledge

    try:
        return [i for i in get_knowledge().institutions if i.status == "published"]
    except KnowledgeError:
        log.warning("knowledge base unreadable; complaint institutions stay unlinked")
        return []


def _code_hash(code: str) -> str:
    cleaned = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(cleaned.encode()).hexdigest()


def _new_follow_up_code() -> str:
    return "".join(secrets.choice(FOLLOW_UP_ALPHABET) for _ in range(FOLLOW_UP_LENGTH))


def find_by_key(session: Session, *, idempotency_key: str) -> Complaint | None:
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
    code = _new_follow_up_code()
    existing.follow_up_code_hash = _code_hash(code)
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
    if idempotency_key and (existing := find_by_key(session, idempotency_key=idempotency_key)):
        return _repeat(session, existing=existing, data=data, actor=actor)
    received_on = data.received_on or today
    if received_on > today or received_on < today - BACKDATE_LIMIT:
        raise InvalidInput("受理日期不能晚于今天，也不能早于一年前。", code="received_on_invalid")
    if institutions is None:
        institutions = published_institutions()
    match = match_institution(data.institution_name, institutions)
    code = _new_follow_up_code() if data.contact_mobile is None else None
    complaint = Complaint(
        **data.model_dump(exclude={"received_on"}),
        number=next_number(session, f"TS{today:%Y%m%d}-"),
        status="received",
        institution_id=match.institution_id if match else None,
        institution_title=match.title if match else None,
        follow_up_code_hash=_code_hash(code) if code else None,
        received_on=received_on,
        investigation_due=load_calendar(session).add_working_days(
            received_on, COMPLAINT_WORKING_DAYS
        ),
        idempotency_key=idempotency_key,
    )
    session.add(complaint)
    masked = mask_mobile(complaint.contact_mobile) if complaint.contact_mobile else None
    try:
        session.flush()
        session.add(
            ComplaintEvent(
                complaint_id=complaint.id,
                from_status=None,
                to_status="received",
                actor=actor,
                note="投诉已受理",
            )
        )
        audit.record(
            session,
            actor=actor,
            action="complaint.create",
            subject=complaint.number,
            details={
                "conversation_id": complaint.conversation_id,
                "channel": complaint.channel,
                "type": complaint.complaint_type,
                "institution_id": complaint.institution_id,
                "contact_mobile": masked,
                "anonymous": code is not None,
            },
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        if idempotency_key and (existing := find_by_key(session, idempotency_key=idempotency_key)):
            return _repeat(session, existing=existing, data=data, actor=actor)  # a racer won
        raise
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
    if change.to not in TRANSITIONS[complaint.status]:
        raise IllegalTransition(
            f"投诉当前状态为“{STATUS_LABELS[complaint.status]}”，"
            f"不能变更为“{STATUS_LABELS[change.to]}”。"
        )
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
    elif change.to == "informed":
        complaint.informed_at = moment
    session.add(
        ComplaintEvent(
            complaint_id=complaint.id,
            from_status=complaint.status,
            to_status=change.to,
            actor=actor,
            note=change.note,
        )
    )
    audit.record(
        session,
        actor=actor,
        action="complaint.transition",
        subject=complaint.number,
        details={
            "from": complaint.status,
            "to": change.to,
            "institution_id": complaint.institution_id,
        },
    )
    complaint.status = change.to
    session.commit()
    return complaint


def events(session: Session, *, number: str) -> list[ComplaintEvent]:
    complaint = get_complaint(session, number=number)
    query = (
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == complaint.id)
        .order_by(ComplaintEvent.id)
    )
    return list(session.scalars(query))


def follow_up(session: Session, *, number: str, code: str, today: date) -> FollowUpPublic:
    """Status for whoever holds the number and its follow-up code; anything else is not found."""
    complaint = session.scalar(select(Complaint).where(Complaint.number == number.strip()))
    stored = complaint.follow_up_code_hash if complaint else None
    # compare against a dummy too, so timing does not tell which numbers exist
    matches = hmac.compare_digest(_code_hash(code), stored or _DUMMY_HASH)
    if complaint is None or stored is None or not matches:
        raise NotFound("投诉编号或查询码不正确，请核对后再试。")
    return FollowUpPublic(
        number=complaint.number,
        status=complaint.status,
        status_label=STATUS_LABELS[complaint.status],
        complaint_type_label=TYPE_LABELS[complaint.complaint_type],
        institution_name=complaint.institution_name,
        received_on=complaint.received_on,
        investigation_due=complaint.investigation_due,
        overdue=is_overdue(complaint, today=today),
        resolution=complaint.resolution,
    )
