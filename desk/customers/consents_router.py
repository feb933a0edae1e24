"""HTTP routes of consents to the privacy notice (PIPL), given in a conversation."""

from fastapi import APIRouter, status

from desk.customers import consents
from desk.customers.schemas import ConsentCreate, ConsentPublic
from desk.deps import DeskReadDep, SessionDep

router = APIRouter(prefix="/api/consents", tags=["consents"])


@router.post("", response_model=ConsentPublic, status_code=status.HTTP_201_CREATED)
def record_consent(body: ConsentCreate, session: SessionDep, caller: DeskReadDep) -> ConsentPublic:
    consent = consents.record_consent(
        session,
        conversation_id=body.conversation_id,
        notice_version=body.notice_version,
        agreed=body.agreed,
        actor=caller.username,
    )
    return ConsentPublic.model_validate(consent)


@router.get("/{conversation_id}", response_model=ConsentPublic)
def latest_consent(
    conversation_id: str, session: SessionDep, _caller: DeskReadDep
) -> ConsentPublic:
    consent = consents.get_latest_consent(session, conversation_id=conversation_id)
    return ConsentPublic.model_validate(consent)
