"""HTTP routes of one consultation in the console; thin: services and the conversation port."""

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, status

from desk import cases
from desk.clock import now, today
from desk.consultations import drafting, service
from desk.consultations.ports import ConversationPort, get_conversation_port
from desk.consultations.schemas import (
    ConsultationView,
    DemandDraft,
    KnowledgeDraftIn,
    KnowledgeDraftPublic,
    NoteIn,
    ReplyIn,
    Suggestions,
    TranscriptLine,
)
from desk.demands.schemas import DemandPublic
from desk.deps import SessionDep, require_roles
from desk.escalations import service as escalations
from desk.escalations.models import Escalation
from desk.escalations.schemas import EscalationClose, EscalationPublic
from desk.provided import from_app
from desk.users.service import Principal, display_names

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/escalations", tags=["consultations"])
ConsoleDep = Annotated[Principal, Depends(require_roles("expert", "staff", "admin"))]
ExpertDep = Annotated[Principal, Depends(require_roles("expert"))]
PortDep = Annotated[ConversationPort, Depends(from_app(get_conversation_port))]


def _readable(session: SessionDep, escalation_id: int, caller: Principal) -> Escalation:
    """Supervisors read every consultation; an expert a waiting one, or one they hold or held."""
    escalation = escalations.get_escalation(session, escalation_id=escalation_id)
    if not cases.is_supervisor(caller) and escalation.status != "waiting":
        cases.ensure_holder(
            holder=escalation.expert,
            actor=caller.username,
            supervisor=False,
            refusal="该会话由其他专家接待，您不能查看。",
        )
    return escalation


def _held(session: SessionDep, escalation_id: int, caller: Principal) -> Escalation:
    """Only the expert holding an open consultation writes to the enterprise in it."""
    escalation = escalations.get_escalation(session, escalation_id=escalation_id)
    cases.ensure_holder(
        holder=escalation.expert,
        actor=caller.username,
        supervisor=False,
        refusal="请先认领该会话，再回复企业。",
    )
    cases.ensure_allowed(
        escalations.ESCALATIONS, escalation, to="closed", refusal="该咨询已结束，不能再回复。"
    )
    return escalation


@router.get("/{escalation_id}/conversation", response_model=ConsultationView)
def conversation(
    escalation_id: int, session: SessionDep, caller: ConsoleDep, port: PortDep
) -> ConsultationView:
    escalation = _readable(session, escalation_id, caller)
    return service.view(session, escalation=escalation, port=port, role=caller.role, today=today())


@router.get("/{escalation_id}/suggestions", response_model=Suggestions)
def suggestions(
    escalation_id: int, session: SessionDep, caller: ConsoleDep, port: PortDep
) -> Suggestions:
    escalation = _readable(session, escalation_id, caller)
    lines = port.transcript(session, conversation_id=escalation.conversation_id)
    query = service.last_user_text(lines)
    return Suggestions(query=query, results=service.suggestions(query))


@router.post(
    "/{escalation_id}/messages", response_model=TranscriptLine, status_code=status.HTTP_201_CREATED
)
async def send_message(
    escalation_id: int, body: ReplyIn, session: SessionDep, caller: ConsoleDep, port: PortDep
) -> TranscriptLine:
    escalation = _held(session, escalation_id, caller)
    conversation_id, channel = escalation.conversation_id, escalation.channel
    session.close()  # the send runs its own transactions
    return await port.send(
        conversation_id=conversation_id,
        channel=channel,
        text=body.text,
        mode=body.mode,
        author=caller.username,
        client_id=body.client_id,
    )


@router.post(
    "/{escalation_id}/notes", response_model=TranscriptLine, status_code=status.HTTP_201_CREATED
)
def add_note(
    escalation_id: int, body: NoteIn, session: SessionDep, caller: ConsoleDep
) -> TranscriptLine:
    escalation = _readable(session, escalation_id, caller)
    return service.add_note(session, escalation=escalation, author=caller.username, text=body.text)


@router.post("/{escalation_id}/close", response_model=EscalationPublic)
async def close(
    escalation_id: int,
    body: EscalationClose,
    session: SessionDep,
    caller: ConsoleDep,
    port: PortDep,
) -> EscalationPublic:
    """End the consultation with its outcome; the bot learns what the expert said and greets
    the enterprise back."""
    escalation = escalations.release(
        session,
        escalation_id=escalation_id,
        actor=caller.username,
        note=body.note,
        moment=now(),
        supervisor=cases.is_supervisor(caller),
        outcome=body.outcome,
    )
    view = escalations.public(escalation, names=display_names(session))
    session.close()
    await port.hand_back(
        conversation_id=view.conversation_id,
        channel=view.channel,
        expert=caller.username,
        outcome=body.outcome,
        escalation_id=view.id,
    )
    return view


@router.get("/{escalation_id}/demand-draft", response_model=DemandDraft)
def demand_draft(
    escalation_id: int, session: SessionDep, caller: ConsoleDep, port: PortDep
) -> DemandDraft:
    escalation = _held(session, escalation_id, caller)
    return drafting.demand_draft(session, escalation=escalation, port=port)


@router.post(
    "/{escalation_id}/demand", response_model=DemandPublic, status_code=status.HTTP_201_CREATED
)
def open_demand(
    escalation_id: int, body: DemandDraft, session: SessionDep, caller: ConsoleDep
) -> DemandPublic:
    escalation = _held(session, escalation_id, caller)
    demand = drafting.open_demand(
        session, escalation=escalation, draft=body, actor=caller.username, today=today()
    )
    return demand


@router.post(
    "/{escalation_id}/knowledge-draft",
    response_model=KnowledgeDraftPublic,
    status_code=status.HTTP_201_CREATED,
)
def knowledge_draft(
    escalation_id: int, body: KnowledgeDraftIn, session: SessionDep, caller: ExpertDep
) -> KnowledgeDraftPublic:
    escalation = _readable(session, escalation_id, caller)
    draft = service.save_knowledge_draft(
        session,
        escalation=escalation,
        question=body.question,
        answer=body.answer,
        author=caller.username,
    )
    return KnowledgeDraftPublic(
        id=draft.id,
        status=draft.status,
        question=draft.question,
        answer=draft.answer,
        domain=draft.domain,
    )
