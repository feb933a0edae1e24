"""GET /api/search (DESIGN §4): published entries, best first, no login needed.

With ``q`` the entries are ranked by the query; without ``q`` but with a filter (``domain``,
``region``, ``service_mode``) the request browses by category (§7.2.1 分类检索): every published
entry of the kind that passes the filters, in the knowledge's order.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status

from retrieval.search import Filters, IndexMissing, get_searcher

router = APIRouter(prefix="/api", tags=["search"])

BROWSE_LIMIT = 200  # category browsing without k: the whole category (the sample has < 100)


@router.get("/search")
def search(
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="查询文本（分类检索时可省略）"),
    ] = None,
    kind: Literal["service", "institution", "station", "faq"] = "service",
    k: Annotated[int | None, Query(ge=1, le=BROWSE_LIMIT)] = None,
    domain: Annotated[str | None, Query(max_length=40)] = None,
    region: Annotated[str | None, Query(max_length=40)] = None,
    service_mode: Annotated[str | None, Query(max_length=20)] = None,
) -> dict[str, Any]:
    filters = Filters(domain=domain, region=region, service_mode=service_mode)
    if q is None and not (domain or region or service_mode):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            detail={
                "code": "query_or_filter_required",
                "message": "请输入查询文本，或选择领域、地区、服务方式进行分类检索",
            },
        )
    if q is not None and k is not None and k > 50:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            detail={"code": "k_too_large", "message": "关键词检索最多返回 50 条结果"},
        )
    try:
        searcher = get_searcher()
    except IndexMissing as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail={"code": "index_missing", "message": str(exc)},
        ) from exc
    if q is None:
        hits = searcher.browse(kind=kind, filters=filters, k=k)
    else:
        hits = searcher.search(q, kind=kind, k=k or 5, filters=filters)
    return {"results": [hit.public() for hit in hits]}
