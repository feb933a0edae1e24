"""HTTP routes of customers (§7.1); thin: map requests to the services.

The bot (service token) acts for one conversation: it sees a customer only through a conversation
linked to it, and gets personal numbers masked (desk/customers/access.py). Staff see everything
in full. Documents, reviews and consents have their routes beside this module; ``router`` carries
the customers' routes, ``consents_router`` those of consents.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from desk import cases
from desk.customers import consents, documents_router, reviews_router, service
from desk.customers.access import customer_view, reachable_customer
from desk.customers.consents_router import router as consents_router
from desk.customers.schemas import (
    ConversationLink,
    CustomerCreate,
    CustomerKind,
    CustomerList,
    CustomerPublic,
    CustomerUpdate,
)
from desk.customers.settings import PrivacySettings, get_privacy_settings
from desk.deps import DeskReadDep, SessionDep, StaffDep
from desk.errors import InvalidInput, NotFound
from desk.provided import from_app

__all__ = ["consents_router", "router"]

router = APIRouter()
# /reviews before /{customer_id}, so that the queue is not read as a customer id
router.include_router(reviews_router.router)
router.include_router(documents_router.router)
customers = APIRouter(prefix="/api/customers", tags=["customers"])
ConversationQuery = Annotated[str | None, Query(max_length=80)]
PrivacyDep = Annotated[PrivacySettings, Depends(from_app(get_privacy_settings))]
Verification = Annotated[str | None, Query(pattern="^(unverified|pending|approved|rejected)$")]


@customers.post("", response_model=CustomerPublic, status_code=status.HTTP_201_CREATED)
def create_customer(
    body: CustomerCreate, session: SessionDep, caller: DeskReadDep, privacy: PrivacyDep
) -> CustomerPublic:
    if cases.is_bot(caller):
        if not body.conversation_id:
            raise InvalidInput("智能助手登记用户时须提供会话编号。", code="conversation_required")
        if privacy.require_consent:
            consents.require_consent(session, conversation_id=body.conversation_id)
    customer = service.create_customer(session, data=body, actor=caller.username)
    return customer_view(session, caller, customer)


@customers.get("", response_model=CustomerList)
def list_customers(
    session: SessionDep,
    caller: StaffDep,
    kind: CustomerKind | None = None,
    verification: Verification = None,
    name: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CustomerList:
    items = service.list_customers(
        session, kind=kind, verification=verification, name=name, limit=limit
    )
    return CustomerList(items=[customer_view(session, caller, c) for c in items])


@customers.get("/by-conversation/{conversation_id}", response_model=CustomerPublic)
def by_conversation(
    conversation_id: str, session: SessionDep, caller: DeskReadDep
) -> CustomerPublic:
    customer = service.customer_for_conversation(session, conversation_id=conversation_id)
    if customer is None:
        raise NotFound("该会话尚未关联用户。")
    return customer_view(session, caller, customer)


@customers.get("/{customer_id}", response_model=CustomerPublic)
def get_customer(
    customer_id: int,
    session: SessionDep,
    caller: DeskReadDep,
    conversation_id: ConversationQuery = None,
) -> CustomerPublic:
    return customer_view(
        session, caller, reachable_customer(session, caller, customer_id, conversation_id)
    )


@customers.patch("/{customer_id}", response_model=CustomerPublic)
def update_customer(
    customer_id: int,
    body: CustomerUpdate,
    session: SessionDep,
    caller: DeskReadDep,
    privacy: PrivacyDep,
    conversation_id: ConversationQuery = None,
) -> CustomerPublic:
    reachable_customer(session, caller, customer_id, conversation_id)
    if cases.is_bot(caller) and privacy.require_consent:
        consents.require_consent(session, conversation_id=conversation_id)
    customer = service.update_customer(
        session, customer_id=customer_id, data=body, actor=caller.username
    )
    return customer_view(session, caller, customer)


@customers.post("/{customer_id}/conversations", response_model=CustomerPublic)
def link_conversation(
    customer_id: int, body: ConversationLink, session: SessionDep, staff: StaffDep
) -> CustomerPublic:
    customer = service.link_conversation(
        session, customer_id=customer_id, conversation_id=body.conversation_id, actor=staff.username
    )
    return customer_view(session, staff, customer)


@customers.delete(
    "/{customer_id}/conversations/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT
)
def unlink_conversation(
    customer_id: int, conversation_id: str, session: SessionDep, staff: StaffDep
) -> None:
    service.unlink_conversation(
        session, customer_id=customer_id, conversation_id=conversation_id, actor=staff.username
    )


router.include_router(customers)
