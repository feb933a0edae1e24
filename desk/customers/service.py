"""Customer use cases (§7.1): registration, contact details, conversations; keyword-only."""

import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk import audit
from desk.customers.models import (
    KIND_LABELS,
    VERIFICATION_LABELS,
    Customer,
    CustomerConversation,
)
from desk.customers.schemas import CustomerCreate, CustomerPublic, CustomerUpdate
from desk.errors import DeskError, InvalidInput, NotFound
from knowledge.personal_data import mask_code, mask_mobile

log = logging.getLogger(__name__)


class Conflict(DeskError):
    code = "conflict"
    status = 409


def subject(customer_id: int) -> str:
    return f"customer:{customer_id}"


def public(customer: Customer, *, conversation_ids: Sequence[str], masked: bool) -> CustomerPublic:
    view = CustomerPublic.model_validate(customer)
    view.kind_label = KIND_LABELS[customer.kind]
    view.verification_label = VERIFICATION_LABELS[customer.verification]
    view.conversation_ids = list(conversation_ids)
    if masked:
        view.mobile = mask_mobile(customer.mobile) if customer.mobile else None
        view.id_number = mask_code(customer.id_number) if customer.id_number else None
        view.credit_code = mask_code(customer.credit_code) if customer.credit_code else None
    return view


def get_customer(session: Session, *, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("未找到该用户。")
    return customer


def conversation_ids(session: Session, *, customer_id: int) -> list[str]:
    query = (
        select(CustomerConversation.conversation_id)
        .where(CustomerConversation.customer_id == customer_id)
        .order_by(CustomerConversation.linked_at, CustomerConversation.conversation_id)
    )
    return list(session.scalars(query))


def linked_conversations(session: Session, *, conversation_id: str) -> list[str]:
    """The conversation and the other conversations of its customer (WeChat and web alike),
    so that an enterprise sees its demands and complaints from whichever channel it uses."""
    link = session.get(CustomerConversation, conversation_id)
    if link is None:
        return [conversation_id]
    return conversation_ids(session, customer_id=link.customer_id)


def customer_for_conversation(session: Session, *, conversation_id: str) -> Customer | None:
    link = session.get(CustomerConversation, conversation_id)
    return session.get(Customer, link.customer_id) if link else None


def visible_customer(
    session: Session, *, customer_id: int, conversation_id: str | None
) -> Customer:
    """The customer, when ``conversation_id`` is one of its conversations; else not found."""
    link = session.get(CustomerConversation, conversation_id) if conversation_id else None
    if link is None or link.customer_id != customer_id:
        raise NotFound("未找到该用户。")
    return get_customer(session, customer_id=customer_id)


def create_customer(session: Session, *, data: CustomerCreate, actor: str) -> Customer:
    if data.credit_code and session.scalar(
        select(Customer.id).where(Customer.credit_code == data.credit_code)
    ):
        raise Conflict(
            "该统一社会信用代码已注册；如需关联本会话，请联系工作人员。", code="credit_code_taken"
        )
    if data.conversation_id and session.get(CustomerConversation, data.conversation_id):
        raise Conflict("该会话已关联用户。", code="conversation_linked")
    customer = Customer(
        **data.model_dump(exclude={"conversation_id"}), verification="unverified", created_by=actor
    )
    session.add(customer)
    try:
        session.flush()
        if data.conversation_id:
            session.add(
                CustomerConversation(
                    conversation_id=data.conversation_id, customer_id=customer.id, linked_by=actor
                )
            )
        audit.record(
            session,
            actor=actor,
            action="customer.create",
            subject=subject(customer.id),
            details={
                "kind": customer.kind,
                "conversation_id": data.conversation_id,
                "credit_code": mask_code(customer.credit_code or "") or None,
            },
        )
        session.commit()
    except IntegrityError as exc:  # a concurrent registration of the same code or conversation
        session.rollback()
        raise Conflict("该用户或会话已注册。", code="customer_exists") from exc
    log.info("customer registered id=%s kind=%s", customer.id, customer.kind)
    return customer


def update_customer(
    session: Session, *, customer_id: int, data: CustomerUpdate, actor: str
) -> Customer:
    customer = get_customer(session, customer_id=customer_id)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        del changes["name"]
    if "name" in changes and customer.kind == "enterprise":
        if customer.verification == "approved":
            raise InvalidInput(
                "企业名称变更请提交名称变更申请，并附新的营业执照。", code="name_change_required"
            )
        if customer.verification == "pending":
            raise Conflict(
                "注册资料审核中，暂不能修改企业名称；请待审核结果后再修改。", code="review_pending"
            )
    for field, value in changes.items():
        setattr(customer, field, value)
    audit.record(
        session,
        actor=actor,
        action="customer.update",
        subject=subject(customer.id),
        details={"fields": sorted(changes)},
    )
    session.commit()
    return customer


def list_customers(
    session: Session,
    *,
    kind: str | None = None,
    verification: str | None = None,
    name: str | None = None,
    limit: int = 100,
) -> list[Customer]:
    query = select(Customer).order_by(Customer.id.desc()).limit(limit)
    if kind:
        query = query.where(Customer.kind == kind)
    if verification:
        query = query.where(Customer.verification == verification)
    if name:
        query = query.where(Customer.name.contains(name, autoescape=True))
    return list(session.scalars(query))


def link_conversation(
    session: Session, *, customer_id: int, conversation_id: str, actor: str
) -> Customer:
    customer = get_customer(session, customer_id=customer_id)
    existing = session.get(CustomerConversation, conversation_id)
    if existing is not None:
        if existing.customer_id == customer_id:
            return customer
        raise Conflict("该会话已关联其他用户。", code="conversation_linked")
    session.add(
        CustomerConversation(
            conversation_id=conversation_id, customer_id=customer_id, linked_by=actor
        )
    )
    audit.record(
        session,
        actor=actor,
        action="customer.link",
        subject=subject(customer_id),
        details={"conversation_id": conversation_id},
    )
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("该会话已关联其他用户。", code="conversation_linked") from exc
    return customer


def unlink_conversation(
    session: Session, *, customer_id: int, conversation_id: str, actor: str
) -> None:
    link = session.get(CustomerConversation, conversation_id)
    if link is None or link.customer_id != customer_id:
        raise NotFound("该会话未关联此用户。")
    session.delete(link)
    audit.record(
        session,
        actor=actor,
        action="customer.unlink",
        subject=subject(customer_id),
        details={"conversation_id": conversation_id},
    )
    session.commit()
