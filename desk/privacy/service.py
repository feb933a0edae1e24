"""Erasing contact details from the desk's records; keyword-only, never commits.

What is erased: the contact's name and mobile on demands and complaints, and the contact's name
and mobile on the customer (registration) record. What is kept: case numbers, what was asked
and done (need, product, place, the complaint's content and outcome, the timeline), the
enterprise's own name and credit code, an individual's ID number of a registration (§7.1.1.3
needs it for the account) and the anonymous complaint's follow-up code (a hash, no contact).

Each erasure returns the values it removed (in memory only: the caller erases them from the
transcripts and the bot's tracker too) and counts; logs and audit entries get numbers only.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from desk import audit
from desk.complaints.models import Complaint
from desk.customers.models import Consent, Customer, CustomerConversation
from desk.customers.service import customer_for_conversation, linked_conversations
from desk.demands.models import Demand
from desk.errors import InvalidInput, NotFound
from knowledge.masking import ERASED

log = logging.getLogger(__name__)

WITHDRAWN = "withdrawn"  # the notice version of the consent a withdrawal records
VIA_LABELS = {"web": "网页会话", "wechat": "微信公众号", "phone": "电话", "letter": "信件"}
CLOSED_DEMANDS = ("completed", "evaluated", "cancelled")
CLOSED_COMPLAINTS = ("resolved", "informed")


class NothingToWithdraw(InvalidInput):
    code = "nothing_to_withdraw"


@dataclass
class Erased:
    """What one erasure touched: the conversations, the cases by number, the values removed."""

    conversations: list[str] = field(default_factory=list)
    demands: list[str] = field(default_factory=list)
    complaints: list[str] = field(default_factory=list)
    customers: int = 0
    values: set[str] = field(default_factory=set)  # never logged, never stored

    def counts(self) -> dict[str, int]:
        return {
            "conversations": len(self.conversations),
            "demands": len(self.demands),
            "complaints": len(self.complaints),
            "customers": self.customers,
        }


def _keep(values: set[str], *candidates: str | None) -> None:
    values.update(c for c in candidates if c and c != ERASED)


def erase_demand(demand: Demand, erased: Erased) -> None:
    if demand.contact_mobile or demand.contact_name != ERASED:
        _keep(erased.values, demand.contact_name, demand.contact_mobile)
        demand.contact_name, demand.contact_mobile = ERASED, ""
        erased.demands.append(demand.number)


def erase_complaint(complaint: Complaint, erased: Erased) -> None:
    if complaint.contact_mobile or complaint.contact_name not in (None, ERASED):
        _keep(erased.values, complaint.contact_name, complaint.contact_mobile)
        # an anonymous complaint stays without a name; one that had a contact says it was erased
        complaint.contact_name, complaint.contact_mobile = ERASED, None
        erased.complaints.append(complaint.number)


def erase_customer(customer: Customer, erased: Erased) -> None:
    if customer.contact_name or customer.mobile:
        _keep(erased.values, customer.contact_name, customer.mobile)
        customer.contact_name, customer.mobile = None, None
        erased.customers += 1


def erase_conversations(session: Session, *, conversations: Iterable[str]) -> Erased:
    """Erase the contact details of every case and customer of these conversations."""
    ids = sorted(set(conversations))
    erased = Erased(conversations=ids)
    if not ids:
        return erased
    for demand in session.scalars(
        select(Demand).where(Demand.conversation_id.in_(ids)).order_by(Demand.id)
    ):
        erase_demand(demand, erased)
    for complaint in session.scalars(
        select(Complaint).where(Complaint.conversation_id.in_(ids)).order_by(Complaint.id)
    ):
        erase_complaint(complaint, erased)
    customer_ids = set(
        session.scalars(
            select(CustomerConversation.customer_id).where(
                CustomerConversation.conversation_id.in_(ids)
            )
        )
    )
    for customer_id in sorted(customer_ids):
        customer = session.get(Customer, customer_id)
        if customer is not None:
            erase_customer(customer, erased)
    return erased


def held_values(session: Session, *, conversation_id: str) -> set[str]:
    """The contact details the desk holds for a conversation, read only (the retention purge
    erases them from old transcripts while an open case keeps its contact)."""
    values: set[str] = set()
    for name, mobile in session.execute(
        select(Demand.contact_name, Demand.contact_mobile).where(
            Demand.conversation_id == conversation_id
        )
    ):
        _keep(values, name, mobile)
    for other_name, other_mobile in session.execute(
        select(Complaint.contact_name, Complaint.contact_mobile).where(
            Complaint.conversation_id == conversation_id
        )
    ):
        _keep(values, other_name, other_mobile)
    customer = customer_for_conversation(session, conversation_id=conversation_id)
    if customer is not None:
        _keep(values, customer.contact_name, customer.mobile)
    return values


def withdraw_consent(
    session: Session,
    *,
    conversation_id: str | None,
    number: str | None = None,
    via: str,
    actor: str,
) -> Erased:
    """An enterprise withdraws its consent (PIPL Art. 47): its contact details are erased from
    the cases and the customer record of the conversation (and the customer's other
    conversations), a refusal is recorded as its latest consent (so nothing asks for or keeps
    contact details again until it agrees anew) and an audit entry says who and when.

    ``number`` names a case instead (a withdrawal received by phone or letter): its
    conversation's records go too, or the case alone when staff entered it."""
    if via not in VIA_LABELS:
        raise InvalidInput("撤回授权的渠道应为网页会话、微信公众号、电话或信件。")
    named: Demand | Complaint | None = None
    if number is not None:
        named = session.scalar(select(Demand).where(Demand.number == number)) or session.scalar(
            select(Complaint).where(Complaint.number == number)
        )
        if named is None:
            raise NotFound(f"未找到编号为 {number} 的需求或投诉。")
        conversation_id = named.conversation_id or conversation_id
    if conversation_id is None and named is None:
        raise NothingToWithdraw("请提供会话或需求、投诉编号。")
    conversations = (
        linked_conversations(session, conversation_id=conversation_id) if conversation_id else []
    )
    erased = erase_conversations(session, conversations=conversations)
    if isinstance(named, Demand):
        erase_demand(named, erased)
    elif isinstance(named, Complaint):
        erase_complaint(named, erased)
    for cid in conversations:
        refusal = Consent(conversation_id=cid, notice_version=WITHDRAWN, agreed=False, actor=actor)
        session.add(refusal)
    audit.record(
        session,
        actor=actor,
        action="privacy.withdraw",
        subject=(number or conversation_id or "-")[:60],
        details={"via": via, **erased.counts(), "cases": erased.demands + erased.complaints},
    )
    log.info("consent withdrawn via=%s %s", via, _counts_text(erased))
    return erased


def withdrawn(session: Session, *, conversation_id: str) -> bool:
    """Whether the conversation's latest answer to the privacy notice is a withdrawal."""
    latest = session.scalar(
        select(Consent)
        .where(Consent.conversation_id == conversation_id)
        .order_by(Consent.id.desc())
        .limit(1)
    )
    return latest is not None and latest.notice_version == WITHDRAWN


def erase_closed_cases(session: Session, *, before: datetime) -> Erased:
    """Retention (PIPL Art. 19): contact details of cases closed before ``before`` go; the cases
    themselves stay (numbers, content, outcome, timeline)."""
    erased = Erased()
    demands = select(Demand).where(
        Demand.status.in_(CLOSED_DEMANDS),
        or_(Demand.contact_mobile != "", Demand.contact_name != ERASED),
        or_(
            Demand.completed_at < before,
            Demand.completed_at.is_(None) & (Demand.created_at < before),
        ),
    )
    for demand in session.scalars(demands.order_by(Demand.id)):
        erase_demand(demand, erased)
    complaints = select(Complaint).where(
        Complaint.status.in_(CLOSED_COMPLAINTS),
        or_(
            Complaint.contact_mobile.is_not(None),
            Complaint.contact_name.is_not(None) & (Complaint.contact_name != ERASED),
        ),
        or_(
            Complaint.informed_at < before,
            Complaint.informed_at.is_(None) & (Complaint.resolved_at < before),
        ),
    )
    for complaint in session.scalars(complaints.order_by(Complaint.id)):
        erase_complaint(complaint, erased)
    return erased


def _counts_text(erased: Erased) -> str:
    return " ".join(f"{k}={v}" for k, v in erased.counts().items())
