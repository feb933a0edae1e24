"""Verification reviews (§7.1.1.5) and name changes (§7.1.1.6); keyword-only, free of HTTP."""

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk import audit
from desk.calendar.service import load_calendar
from desk.customers.models import (
    DOCUMENT_KIND_LABELS,
    NAME_CHANGE_DOCUMENTS,
    REQUIRED_DOCUMENTS,
    REVIEW_KIND_LABELS,
    REVIEW_STATUS_LABELS,
    Customer,
    CustomerReview,
)
from desk.customers.schemas import ReviewPublic
from desk.customers.service import Conflict, get_customer, subject
from desk.errors import InvalidInput, NotFound
from desk.sla import REVIEW_WORKING_DAYS
from desk.uploads.models import Document


def one_month_before(day: date) -> date:
    """The same day a calendar month earlier (the month's last day where it has no such day)."""
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def is_review_overdue(review: CustomerReview, *, today: date) -> bool:
    return review.status == "pending" and today > review.review_due


def review_public(review: CustomerReview, *, today: date) -> ReviewPublic:
    view = ReviewPublic.model_validate(review)
    view.kind_label = REVIEW_KIND_LABELS[review.kind]
    view.status_label = REVIEW_STATUS_LABELS[review.status]
    view.overdue = is_review_overdue(review, today=today)
    view.missing_documents = list(review.missing_documents or [])
    view.missing_labels = [DOCUMENT_KIND_LABELS.get(k, k) for k in view.missing_documents]
    return view


def _documents(
    session: Session,
    *,
    customer_id: int,
    document_ids: Sequence[int] | None,
    required: Sequence[str],
    optional: Sequence[str] = (),
) -> list[int]:
    """The documents a review covers; every required kind must be among them."""
    owned = list(
        session.scalars(
            select(Document).where(Document.customer_id == customer_id).order_by(Document.id)
        )
    )
    if document_ids is not None:
        by_id = {d.id: d for d in owned}
        unknown = [i for i in dict.fromkeys(document_ids) if i not in by_id]
        if unknown:
            raise InvalidInput(
                f"材料编号 {'、'.join(map(str, unknown))} 不属于该用户。", code="document_unknown"
            )
        chosen = [by_id[i] for i in dict.fromkeys(document_ids)]
    else:
        newest = {d.kind: d for d in owned}  # ordered by id: the last one of each kind wins
        chosen = [newest[k] for k in (*required, *optional) if k in newest]
    kinds = {d.kind for d in chosen}
    missing = [DOCUMENT_KIND_LABELS[k] for k in required if k not in kinds]
    if missing:
        raise InvalidInput(
            f"缺少以下材料：{'、'.join(missing)}，请上传后再提交审核。", code="documents_missing"
        )
    return [d.id for d in chosen]


def _pending(session: Session, *, customer_id: int, kind: str) -> CustomerReview | None:
    return session.scalar(
        select(CustomerReview).where(
            CustomerReview.customer_id == customer_id,
            CustomerReview.kind == kind,
            CustomerReview.status == "pending",
        )
    )


def _open_review(
    session: Session,
    *,
    customer: Customer,
    kind: str,
    document_ids: list[int],
    today: date,
    actor: str,
    new_name: str | None = None,
    changed_on: date | None = None,
    conversation_id: str | None = None,
    qualification_note: str | None = None,
) -> CustomerReview:
    review = CustomerReview(
        customer_id=customer.id,
        kind=kind,
        status="pending",
        submitted_on=today,
        review_due=load_calendar(session).add_working_days(today, REVIEW_WORKING_DAYS),
        document_ids=document_ids,
        new_name=new_name,
        changed_on=changed_on,
        submitted_by=actor,
        conversation_id=conversation_id,
        qualification_note=qualification_note,
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"customer.submit_{kind}",
        subject=subject(customer.id),
        details={"review_id": review.id, "document_ids": document_ids, "new_name": new_name},
    )
    session.commit()
    return review


def submit_registration(
    session: Session,
    *,
    customer_id: int,
    document_ids: Sequence[int] | None,
    today: date,
    actor: str,
    conversation_id: str | None = None,
    qualification_note: str | None = None,
) -> CustomerReview:
    """Submit the registration materials for review; a result is due in 3 working days.

    An enterprise without a qualification certificate states why (``qualification_note``)
    instead of uploading one (§7.1.1.4 b); the result is told in ``conversation_id``."""
    customer = get_customer(session, customer_id=customer_id)
    if customer.verification == "approved":
        raise Conflict("该用户已通过审核，无需重复提交。", code="already_verified")
    if _pending(session, customer_id=customer.id, kind="registration"):
        raise Conflict("已有待审核的注册申请，请等待审核结果。", code="review_pending")
    required = REQUIRED_DOCUMENTS[customer.kind]
    note = (qualification_note or "").strip() or None
    if customer.kind != "enterprise":
        note = None
    elif note is not None:
        required = tuple(k for k in required if k != "qualification")
    ids = _documents(
        session,
        customer_id=customer.id,
        document_ids=document_ids,
        required=required,
        optional=("qualification",) if note else (),
    )
    customer.verification = "pending"
    return _open_review(
        session,
        customer=customer,
        kind="registration",
        document_ids=ids,
        today=today,
        actor=actor,
        conversation_id=conversation_id,
        qualification_note=note,
    )


def submit_name_change(
    session: Session,
    *,
    customer_id: int,
    new_name: str,
    changed_on: date,
    document_ids: Sequence[int] | None,
    today: date,
    actor: str,
    conversation_id: str | None = None,
) -> CustomerReview:
    """§7.1.1.6: an enterprise submits its new name within 1 month of the change."""
    customer = get_customer(session, customer_id=customer_id)
    if customer.kind != "enterprise":
        raise InvalidInput("名称变更申请仅适用于企业用户。", code="enterprise_only")
    if customer.verification == "pending":
        raise Conflict("注册资料审核中，请待审核结果后再申请名称变更。", code="review_pending")
    if customer.verification != "approved":
        raise Conflict("企业尚未通过注册审核，可直接修改企业名称后提交审核。", code="not_verified")
    if changed_on > today:
        raise InvalidInput("变更日期不能晚于今天。", code="changed_on_invalid")
    deadline = one_month_before(today)
    if changed_on < deadline:
        raise InvalidInput(
            f"企业名称于 {changed_on:%Y年%m月%d日} 变更，已超过1个月的提交期限"
            f"（应在变更后1个月内提交，即不早于 {deadline:%Y年%m月%d日}）。"
            "请联系平台工作人员办理，在对话中可回复“转人工”。",
            code="name_change_late",
        )
    if new_name == customer.name:
        raise InvalidInput("新名称与当前名称相同。", code="name_unchanged")
    if _pending(session, customer_id=customer.id, kind="name_change"):
        raise Conflict("已有待审核的名称变更申请，请等待审核结果。", code="review_pending")
    ids = _documents(
        session,
        customer_id=customer.id,
        document_ids=document_ids,
        required=NAME_CHANGE_DOCUMENTS,
        optional=("change_notice",),
    )
    return _open_review(
        session,
        customer=customer,
        kind="name_change",
        document_ids=ids,
        today=today,
        actor=actor,
        new_name=new_name,
        changed_on=changed_on,
        conversation_id=conversation_id,
    )


def get_review(session: Session, *, review_id: int) -> CustomerReview:
    review = session.get(CustomerReview, review_id)
    if review is None:
        raise NotFound("未找到该审核申请。")
    return review


def decide(
    session: Session,
    *,
    review_id: int,
    decision: str,
    reason: str,
    actor: str,
    moment: datetime,
    missing_documents: Sequence[str] = (),
) -> CustomerReview:
    """Approve or reject (with a reason) a pending review; approval applies it to the customer.

    A rejection may name the materials to upload again (``missing_documents``)."""
    review = get_review(session, review_id=review_id)
    if review.status != "pending":
        raise Conflict(
            f"该申请已审核（{REVIEW_STATUS_LABELS[review.status]}），不能重复审核。",
            code="review_decided",
        )
    reason = reason.strip()
    if decision == "rejected" and not reason:
        raise InvalidInput("审核不通过时请填写原因，以便用户补充资料。", code="reason_required")
    missing = list(dict.fromkeys(missing_documents))
    if missing and decision != "rejected":
        raise InvalidInput("审核通过时无需标注缺少的材料。", code="missing_on_approval")
    unknown = [k for k in missing if k not in DOCUMENT_KIND_LABELS]
    if unknown:
        raise InvalidInput(f"未知的材料类型：{'、'.join(unknown)}", code="document_kind_invalid")
    customer = get_customer(session, customer_id=review.customer_id)
    details: dict[str, object] = {"review_id": review.id, "kind": review.kind, "decision": decision}
    if missing:
        details["missing_documents"] = missing
        review.missing_documents = missing
    if review.kind == "registration":
        customer.verification = decision
    elif decision == "approved":
        details |= {"old_name": customer.name, "new_name": review.new_name}
        customer.name = review.new_name or customer.name
    review.status, review.reason = decision, reason or None
    review.reviewer, review.reviewed_at = actor, moment
    audit.record(
        session,
        actor=actor,
        action="customer.review",
        subject=subject(customer.id),
        details=details,
    )
    session.commit()
    return review


def list_reviews(
    session: Session,
    *,
    customer_id: int | None = None,
    status: str | None = None,
    overdue_on: date | None = None,
    limit: int = 100,
) -> list[CustomerReview]:
    query = select(CustomerReview).order_by(CustomerReview.id.desc()).limit(limit)
    if customer_id is not None:
        query = query.where(CustomerReview.customer_id == customer_id)
    if status:
        query = query.where(CustomerReview.status == status)
    if overdue_on is not None:
        query = query.where(
            CustomerReview.status == "pending", CustomerReview.review_due < overdue_on
        )
    return list(session.scalars(query))
