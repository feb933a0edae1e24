"""POST /api/cases/lookup: the bot finds a demand or complaint for a conversation that did not
open it (thin: the service decides; its errors map to 404, 422 and 429)."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from desk.case_lookup import service
from desk.clock import now
from desk.deps import DeskReadDep, SessionDep

router = APIRouter(prefix="/api/cases", tags=["cases"])


class CaseLookup(BaseModel):
    conversation_id: str = Field(min_length=1, max_length=80)
    number: str = Field(min_length=1, max_length=40)
    mobile: str | None = Field(default=None, max_length=20)
    follow_up_code: str | None = Field(default=None, max_length=20)


class CaseFound(BaseModel):
    kind: str
    number: str
    status: str
    status_label: str
    linked: bool


@router.post("/lookup", response_model=CaseFound)
def lookup(body: CaseLookup, session: SessionDep, caller: DeskReadDep) -> CaseFound:
    found = service.lookup(
        session,
        conversation_id=body.conversation_id,
        number=body.number,
        mobile=body.mobile,
        follow_up_code=body.follow_up_code,
        moment=now(),
        actor=caller.username,
    )
    return CaseFound(**found.__dict__)
