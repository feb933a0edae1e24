"""What an uploaded file is: the bot labels a chat upload with the material it asked for."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk import audit
from desk.customers.models import CustomerReview
from desk.customers.service import Conflict, subject
from desk.uploads import service as uploads
from desk.uploads.models import Document


def locked_ids(session: Session, *, customer_id: int) -> set[int]:
    """Documents of reviews that are pending or approved: what staff see stays as it is."""
    query = select(CustomerReview.document_ids).where(
        CustomerReview.customer_id == customer_id,
        CustomerReview.status.in_(("pending", "approved")),
    )
    return {int(i) for ids in session.scalars(query) for i in ids or []}


def relabel(
    session: Session, *, customer_id: int, document_id: int, kind: str, actor: str
) -> Document:
    document = uploads.get_document(session, customer_id=customer_id, document_id=document_id)
    if document.kind == kind:
        return document
    if document.id in locked_ids(session, customer_id=customer_id):
        raise Conflict("该材料已提交审核，不能更改类型；请重新上传。", code="document_locked")
    old, document.kind = document.kind, kind
    audit.record(
        session,
        actor=actor,
        action="document.relabel",
        subject=subject(customer_id),
        details={"document_id": document.id, "from": old, "to": kind},
    )
    session.commit()
    return document
