"""GET /api/catalogue…: the public self-service catalogue (no login): domains and services, a
service's operating manual, institutions and stations, and keyword search over them."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from starlette.concurrency import run_in_threadpool

from desk.catalogue import service
from desk.catalogue.schemas import (
    Catalogue,
    CatalogueSearch,
    InstitutionItem,
    InstitutionPage,
    ServicePage,
    StationItem,
    StationPage,
)
from retrieval.search import IndexMissing

router = APIRouter(prefix="/api/catalogue", tags=["catalogue"])
IdPath = Annotated[str, Path(min_length=1, max_length=64)]
DomainQuery = Annotated[str | None, Query(max_length=40, description="领域代码，如 testing")]


@router.get("", response_model=Catalogue)
def catalogue() -> Catalogue:
    """The six QI domains and 其他/综合 (§6.7 and the platform's own services), each with its
    published services."""
    return service.catalogue()


@router.get("/services/{service_id}", response_model=ServicePage)
def service_page(service_id: IdPath) -> ServicePage:
    """A service's operating manual (§4.1.1) with the institutions and stations offering it."""
    return service.service_page(service_id=service_id)


@router.get("/institutions", response_model=list[InstitutionItem])
def institutions(
    domain: DomainQuery = None,
    region: Annotated[str | None, Query(max_length=40)] = None,
) -> list[InstitutionItem]:
    return service.institutions(domain=domain, region=region)


@router.get("/institutions/{institution_id}", response_model=InstitutionPage)
def institution_page(institution_id: IdPath) -> InstitutionPage:
    return service.institution_page(institution_id=institution_id)


@router.get("/stations", response_model=list[StationItem])
def stations(domain: DomainQuery = None) -> list[StationItem]:
    return service.stations(domain=domain)


@router.get("/stations/{station_id}", response_model=StationPage)
def station_page(station_id: IdPath) -> StationPage:
    return service.station_page(station_id=station_id)


@router.get("/search", response_model=CatalogueSearch)
async def search(
    q: Annotated[str, Query(min_length=1, max_length=200, description="关键词")],
    domain: DomainQuery = None,
) -> CatalogueSearch:
    """Keyword search (§7.2.1) over services, institutions and stations."""
    query = q.strip()
    if not query:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            detail={"code": "query_empty", "message": "请输入要搜索的关键词"},
        )
    try:  # the model's encoding is CPU work: off the event loop
        return await run_in_threadpool(service.search, query=query, domain=domain)
    except IndexMissing as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail={"code": "index_missing", "message": str(exc)},
        ) from exc
