"""HTTP routes of reviews (§7.1): registration and name changes submitted, decided by staff."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from desk.case_notices import CaseNoticePort, get_case_notice_port
from desk.clock import now, today
from desk.customers import review_notices, reviews
from desk.customers.access import reachable_customer
from desk.customers.schemas import (
    NameChangeCreate,
    ReviewDecision,
    ReviewList,
    ReviewPublic,
    ReviewSubmit,
)
from desk.customers.service import get_customer
from desk.deps import DeskReadDep, SessionDep, StaffDep
from desk.provided import from_app

router = APIRouter(prefix="/api/customers", tags=["customers"])
ConversationQuery = Annotated[str | None, Query(max_length=80)]
NoticesDep = Annotated[CaseNoticePort, Depends(from_app(get_case_notice_port))]
ReviewStatus = Annotated[str | None, Query(alias="status", pattern="^(pending|approved|rejected)$")]


@router.get("/reviews", response_model=ReviewList)
def review_queue(
    session: SessionDep,
    _staff: StaffDep,
    status_: ReviewStatus = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ReviewList:
    items = reviews.list_reviews(
        session, status=status_, overdue_on=today() if overdue else None, limit=limit
    )
    return ReviewList(items=[reviews.review_public(r, today=today()) for r in items])


@router.post("/reviews/{review_id}/decision", response_model=ReviewPublic)
def decide(
    review_id: int,
    body: ReviewDecision,
    session: SessionDep,
    staff: StaffDep,
    notices: NoticesDep,
) -> ReviewPublic:
    review = reviews.decide(
        session,
        review_id=review_id,
        decision=body.decision,
        reason=body.reason,
        actor=staff.username,
        moment=now(),
        missing_documents=body.missing_documents,
    )
    customer = get_customer(session, customer_id=review.customer_id)
    # the applicant learns the result in its own channel; the review keeps how, or why not
    review_notices.tell_applicant(session, review, customer, port=notices, actor=staff.username)
    return reviews.review_public(review, today=today())


@router.post(
    "/{customer_id}/verification", response_model=ReviewPublic, status_code=status.HTTP_201_CREATED
)
def submit_registration(
    customer_id: int,
    body: ReviewSubmit,
    session: SessionDep,
    caller: DeskReadDep,
    conversation_id: ConversationQuery = None,
) -> ReviewPublic:
    reachable_customer(session, caller, customer_id, conversation_id)
    review = reviews.submit_registration(
        session,
        customer_id=customer_id,
        document_ids=body.document_ids,
        today=today(),
        actor=caller.username,
        conversation_id=conversation_id,
        qualification_note=body.qualification_note,
    )
    return reviews.review_public(review, today=today())


@router.post(
    "/{customer_id}/name-changes", response_model=ReviewPublic, status_code=status.HTTP_201_CREATED
)
def submit_name_change(
    customer_id: int,
    body: NameChangeCreate,
    session: SessionDep,
    caller: DeskReadDep,
    conversation_id: ConversationQuery = None,
) -> ReviewPublic:
    reachable_customer(session, caller, customer_id, conversation_id)
    review = reviews.submit_name_change(
        session,
        customer_id=customer_id,
        new_name=body.new_name,
        changed_on=body.changed_on,
        document_ids=body.document_ids,
        today=today(),
        actor=caller.username,
        conversation_id=conversation_id,
    )
    return reviews.review_public(review, today=today())


@router.get("/{customer_id}/reviews", response_model=ReviewList)
def customer_reviews(
    customer_id: int,
    session: SessionDep,
    caller: DeskReadDep,
    conversation_id: ConversationQuery = None,
) -> ReviewList:
    reachable_customer(session, caller, customer_id, conversation_id)
    items = reviews.list_reviews(session, customer_id=customer_id)
    return ReviewList(items=[reviews.review_public(r, today=today()) for r in items])
