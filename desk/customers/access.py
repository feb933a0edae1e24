"""Which customer a caller may reach, and how it sees one: shared by the customer routes.

The bot (service token) acts for one conversation: it sees a customer only through a conversation
linked to it, and gets personal numbers masked. Staff see everything in full.
"""

from sqlalchemy.orm import Session

from desk import cases
from desk.customers import service
from desk.customers.models import Customer
from desk.customers.schemas import CustomerPublic
from desk.masking import sees_personal_data
from desk.users.service import Principal


def reachable_customer(
    session: Session, caller: Principal, customer_id: int, conversation_id: str | None
) -> Customer:
    """The customer, for the bot only through one of the customer's conversations."""
    if cases.is_bot(caller):
        return service.visible_customer(
            session, customer_id=customer_id, conversation_id=conversation_id
        )
    return service.get_customer(session, customer_id=customer_id)


def customer_view(session: Session, caller: Principal, customer: Customer) -> CustomerPublic:
    return service.public(
        customer,
        conversation_ids=service.conversation_ids(session, customer_id=customer.id),
        masked=not sees_personal_data(caller.role),
    )
