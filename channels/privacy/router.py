"""HTTP routes of a withdrawal of consent (撤回授权): the web chat page's control, and staff who
record one received by phone or letter (audited like the desk's other staff actions)."""

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from channels import transcript
from channels.privacy.withdrawal import ENTERPRISE, record_told, withdraw
from channels.web.router import CONVERSATION_ID
from desk.deps import SessionDep, StaffDep

router = APIRouter(tags=["privacy"])


class WebWithdrawal(BaseModel):
    conversation_id: str = Field(pattern=CONVERSATION_ID, description="web:<uuid>")


class WithdrawalOut(BaseModel):
    messages: list[dict[str, Any]]


class StaffWithdrawal(BaseModel):
    """A withdrawal the enterprise sent by phone or letter, named by one of its cases or by its
    conversation."""

    received_via: Literal["phone", "letter"]
    number: str | None = Field(default=None, pattern=r"^(XQ|TS)\d{8}-\d{4,}$", max_length=20)
    conversation_id: str | None = Field(default=None, pattern=r"^(web|wx):[A-Za-z0-9_-]{6,64}$")

    @model_validator(mode="after")
    def _named(self) -> "StaffWithdrawal":
        if not self.number and not self.conversation_id:
            raise ValueError("请提供需求或投诉编号，或会话编号。")
        return self


class StaffWithdrawalOut(BaseModel):
    conversations: int
    demands: list[str]
    complaints: list[str]
    customers: int
    transcript_rows: int
    tracker_events: int
    told: str  # what the enterprise is to be told (by the same channel it wrote in)


def _web(session: Session, conversation_id: str) -> list[dict[str, Any]]:
    done = withdraw(
        session, conversation_id=conversation_id, via="web", actor=ENTERPRISE, commit=False
    )
    row_id = record_told(session, conversation_id=conversation_id, channel="web", text=done.text)
    session.commit()
    row = session.get(transcript.ChatMessage, row_id)
    assert row is not None
    return [transcript.public(row)]


@router.post("/api/chat/privacy/withdraw", response_model=WithdrawalOut)
async def withdraw_on_web(body: WebWithdrawal, session: SessionDep) -> WithdrawalOut:
    """The enterprise withdraws its consent from the web chat page (after its confirmation)."""
    return WithdrawalOut(messages=await run_in_threadpool(_web, session, body.conversation_id))


@router.post("/api/privacy/withdrawals", response_model=StaffWithdrawalOut, status_code=201)
def record_withdrawal(
    body: StaffWithdrawal, session: SessionDep, staff: StaffDep
) -> StaffWithdrawalOut:
    done = withdraw(
        session,
        conversation_id=body.conversation_id,
        number=body.number,
        via=body.received_via,
        actor=staff.username,
    )
    return StaffWithdrawalOut(
        conversations=len(done.erased.conversations),
        demands=done.erased.demands,
        complaints=done.erased.complaints,
        customers=done.erased.customers,
        transcript_rows=done.transcript_rows,
        tracker_events=done.tracker_events,
        told=done.text,
    )
