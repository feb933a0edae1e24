"""GET /api/search (DESIGN §4): published entries, best first, no login needed."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status

from retrieval.search import Filters, IndexMissing, get_searcher

router = APIRouter(prefix="/api", tags=["search"])


@router.get("/search")
def search(
    q: Annotated[str, Query(min_length=1, max_length=200, description="查询文本")],
    kind: Literal["service", "institution", "station", "faq"] = "service",
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    domain: Annotated[str | None, Query(max_length=40)] = None,
    region: Annotated[str | None, Query(max_length=40)] = None,
    service_mode: Annotated[str | None, Query(max_length=20)] = None,
) -> dict[str, Any]:
    try:
        searcher = get_searcher()
    except IndexMissing as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail={"code": "index_missing", "message": str(exc)},
        ) from exc
    hits = searcher.search(
        q,
        kind=kind,
        k=k,
        filters=Filters(domain=domain, region=region, service_mode=service_mode),
    )
    return {"results": [hit.public() for hit in hits]}
