"""HTTP routes of canned replies; thin."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from desk.canned import service
from desk.canned.schemas import CannedReplyCreate, CannedReplyList, CannedReplyPublic
from desk.deps import SessionDep, require_roles
from desk.users.service import Principal

router = APIRouter(prefix="/api/canned-replies", tags=["canned replies"])
ConsoleDep = Annotated[Principal, Depends(require_roles("expert", "staff", "admin"))]


@router.get("", response_model=CannedReplyList)
def list_replies(
    session: SessionDep,
    caller: ConsoleDep,
    q: Annotated[str, Query(max_length=32)] = "",
) -> CannedReplyList:
    rows = service.visible(session, caller=caller, query=q.strip())
    return CannedReplyList(items=[CannedReplyPublic.model_validate(r) for r in rows])


@router.post("", response_model=CannedReplyPublic, status_code=status.HTTP_201_CREATED)
def create_reply(
    body: CannedReplyCreate, session: SessionDep, caller: ConsoleDep
) -> CannedReplyPublic:
    return CannedReplyPublic.model_validate(service.create(session, data=body, caller=caller))


@router.delete("/{reply_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_reply(reply_id: int, session: SessionDep, caller: ConsoleDep) -> None:
    service.delete(session, reply_id=reply_id, caller=caller)
