"""Enterprises registered straight in the desk for the end-to-end tests, as if they had
registered earlier: the customer, the three documents of §7.1.1.3 and its pending review."""

import secrets
from typing import Any

from stdnum.cn import uscc

from app.stack import Stack
from channels.chat_uploads import upload_root
from desk.clock import today
from desk.customers import reviews as reviews_service
from desk.customers import service as customers
from desk.customers.schemas import CustomerCreate
from desk.db import get_sessionmaker
from desk.uploads import service as uploads
from desk.uploads.settings import get_upload_settings
from tests.e2e.test_staff_desk import _png


def sessions(stack: Stack) -> Any:
    assert stack.settings.database_url
    return get_sessionmaker(stack.settings.database_url)


def credit_code() -> str:
    """A valid unified social credit code of a 江阴 enterprise, new each call."""
    base = "91320281" + "".join(secrets.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return base + uscc.calc_check_digit(base)


def registered(
    session: Any,
    stack: Stack,
    *,
    conversation_id: str,
    name: str,
    contact_name: str,
    submitted_in: str | None = None,
) -> tuple[int, Any]:
    """Inside ``session``: the customer (its id) and its registration review, pending; the review
    remembers ``submitted_in`` when it was submitted from a conversation (a WeChat one)."""
    root = upload_root(stack.settings, get_upload_settings())  # where the app keeps them
    customer = customers.create_customer(
        session,
        data=CustomerCreate(
            kind="enterprise",
            name=name,
            conversation_id=conversation_id,
            contact_name=contact_name,
            mobile="13912345678",
            credit_code=credit_code(),
        ),
        actor="e2e",
    )
    for kind in ("business_licence", "qualification", "integrity_pledge"):
        uploads.store_document(
            session,
            customer_id=customer.id,
            kind=kind,
            content=_png(60, 40),
            original_name=f"{kind}.png",
            root=root,
            max_bytes=10 * 1024 * 1024,
            actor="e2e",
        )
    extra = {"conversation_id": submitted_in} if submitted_in else {}
    review = reviews_service.submit_registration(
        session,
        customer_id=customer.id,
        document_ids=None,
        today=today(),
        actor="wechat" if submitted_in else "e2e",
        **extra,
    )
    return int(customer.id), review
