"""HTTP routes of demands; thin: map requests to the service and errors to status codes."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from desk.clock import today
from desk.demands import service
from desk.demands.schemas import DemandCreate, DemandList, DemandPublic
from desk.deps import DeskReadDep, ServiceDep, SessionDep

router = APIRouter(prefix="/api/demands", tags=["demands"])


@router.post("", response_model=DemandPublic, status_code=status.HTTP_201_CREATED)
def create_demand(
    body: DemandCreate,
    session: SessionDep,
    _caller: ServiceDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=120)] = None,
) -> DemandPublic:
    demand, created = service.create_demand(
        session, data=body, idempotency_key=idempotency_key, today=today()
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return DemandPublic.model_validate(demand)


@router.get("", response_model=DemandList)
def list_demands(
    session: SessionDep,
    _caller: DeskReadDep,
    conversation_id: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DemandList:
    items = service.list_demands(session, conversation_id=conversation_id, limit=limit)
    return DemandList(items=[DemandPublic.model_validate(d) for d in items])


@router.get("/{number}", response_model=DemandPublic)
def get_demand(number: str, session: SessionDep, _caller: DeskReadDep) -> DemandPublic:
    return DemandPublic.model_validate(service.get_demand(session, number=number))
