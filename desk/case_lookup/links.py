"""Which conversations a found case is linked to (desk/case_lookup/service.py makes the links):
read by the demands' and complaints' listings, their visibility and the case notices."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk import cases
from desk.case_lookup.models import CaseLink
from desk.customers.service import linked_conversations
from desk.users.service import Principal


def linked_to(session: Session, *, number: str, conversations: list[str]) -> bool:
    found = session.scalar(
        select(CaseLink.id).where(
            CaseLink.number == number, CaseLink.conversation_id.in_(conversations)
        )
    )
    return found is not None


def linked_numbers(session: Session, *, conversation_id: str) -> list[str]:
    """The numbers of cases linked to the conversation (or to its customer's others)."""
    conversations = linked_conversations(session, conversation_id=conversation_id)
    return list(
        session.scalars(
            select(CaseLink.number).where(CaseLink.conversation_id.in_(conversations)).distinct()
        )
    )


def notice_conversation(session: Session, *, number: str, default: str | None) -> str | None:
    """Where the case's news goes: the conversation linked last (the enterprise used it to find
    the case), else the one that opened it."""
    latest = session.scalar(
        select(CaseLink.conversation_id)
        .where(CaseLink.number == number)
        .order_by(CaseLink.id.desc())
        .limit(1)
    )
    return latest or default


def ensure_visible(
    session: Session,
    kind: cases.CaseKind[Any],
    case: Any,
    *,
    caller: Principal,
    conversation_id: str | None,
) -> None:
    """:func:`desk.cases.ensure_visible`, plus the cases linked to the bot's conversation."""
    if (
        cases.is_bot(caller)
        and conversation_id
        and linked_to(
            session,
            number=case.number,
            conversations=linked_conversations(session, conversation_id=conversation_id),
        )
    ):
        return
    cases.ensure_visible(session, kind, case, caller=caller, conversation_id=conversation_id)
