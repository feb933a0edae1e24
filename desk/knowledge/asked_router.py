"""The bot's report of a FAQ it answered, and the most asked questions (猜你想问; no login:
published questions only, nothing personal)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.orm import Session

from desk.clock import today
from desk.deps import ServiceDep, SessionDep
from desk.knowledge import asked
from desk.knowledge.router import seeded_session
from desk.knowledge.schemas import (
    FaqAnswerCreate,
    FaqAnswerRecorded,
    PopularQuestion,
    PopularQuestions,
)

router = APIRouter(prefix="/api/knowledge", tags=["knowledge"])


@router.post("/answered", response_model=FaqAnswerRecorded, status_code=201)
def record_answered(
    body: FaqAnswerCreate, session: SessionDep, _bot: ServiceDep, response: Response
) -> FaqAnswerRecorded:
    """The bot answered a user message with a FAQ entry; the same message again changes nothing."""
    row, created = asked.record(
        session,
        conversation_id=body.conversation_id,
        message_id=body.message_id,
        channel=body.channel,
        faq_id=body.faq_id,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return FaqAnswerRecorded(id=row.id, created=created)


@router.get("/popular", response_model=PopularQuestions)
def popular_questions(
    session: Annotated[Session, Depends(seeded_session)],
    days: Annotated[int, Query(ge=1, le=365)] = asked.WINDOW_DAYS,
    limit: Annotated[int, Query(ge=1, le=asked.MAX_POPULAR)] = 3,
) -> PopularQuestions:
    """The questions answered in the most conversations over the last ``days`` days."""
    items = asked.popular(session, today=today(), days=days, limit=limit)
    return PopularQuestions(
        days=days,
        items=[
            PopularQuestion(
                faq_id=p.faq_id,
                question=p.question,
                conversations=p.conversations,
                last_answered=p.last_answered,
            )
            for p in items
        ],
    )
