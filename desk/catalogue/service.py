"""The catalogue read from the live knowledge (``retrieval.live.live_knowledge``): a publication
shows at once. Keyword search goes through the same Searcher as GET /api/search."""

from typing import TypeVar

from desk.catalogue.schemas import (
    Catalogue,
    CatalogueSearch,
    DomainItem,
    InstitutionItem,
    InstitutionPage,
    Offer,
    Qualification,
    SearchResult,
    ServiceItem,
    ServicePage,
    ServiceRef,
    StationItem,
    StationPage,
)
from desk.errors import InvalidInput, NotFound
from knowledge.constants import DOMAIN_LABELS
from knowledge.schema import Institution, Service, Station
from knowledge.store import KnowledgeBase
from retrieval.live import live_knowledge, live_version
from retrieval.search import Filters, Hit, get_searcher
from retrieval.settings import get_settings as get_retrieval_settings

SEARCH_K = 8
_T = TypeVar("_T", Service, Institution, Station)
LEXICAL_MIN = 0.15  # share of the query's BM25 weight an entry must match to count as a hit


def _published(kb: KnowledgeBase, entry_id: str, kind: type[_T]) -> _T | None:
    entry = kb.get(entry_id)
    if isinstance(entry, kind) and entry.status == "published":
        return entry
    return None


def _service_item(kb: KnowledgeBase, service: Service) -> ServiceItem:
    return ServiceItem(
        id=service.id,
        title=service.title,
        domain=service.domain,
        domain_label=service.domain_label,
        summary=service.description,
        institution_count=len(kb.institutions_for(service.id)),
        station_count=len(kb.stations_for(service.id)),
    )


def _station_item(station: Station) -> StationItem:
    return StationItem(
        id=station.id,
        title=station.title,
        type=station.type,
        region=station.region,
        address=station.address,
        hours=station.hours,
        phone=station.contact.phone,
    )


def _service_ref(kb: KnowledgeBase, service_id: str) -> ServiceRef | None:
    service = _published(kb, service_id, Service)
    if service is None:
        return None
    return ServiceRef(id=service.id, title=service.title, domain_label=service.domain_label)


def catalogue() -> Catalogue:
    kb = live_knowledge()
    services = [s for s in kb.services if s.status == "published"]
    domains = [
        DomainItem(
            code=code,
            label=label,
            services=[_service_item(kb, s) for s in services if s.domain == code],
        )
        for code, label in DOMAIN_LABELS.items()
    ]
    return Catalogue(version=live_version(), domains=domains)


def service_page(*, service_id: str) -> ServicePage:
    kb = live_knowledge()
    service = _published(kb, service_id, Service)
    if service is None:
        raise NotFound(f"没有找到服务事项“{service_id}”，请从服务目录中选择。")
    offers = []
    for inst in sorted(kb.institutions_for(service.id), key=lambda i: -i.rating):
        caps = [c for c in inst.capabilities if c.service_id == service.id]
        offers.append(
            Offer(
                id=inst.id,
                title=inst.title,
                type=inst.type,
                region=inst.region,
                service_modes=list(inst.service_modes),
                rating=inst.rating,
                products=list(dict.fromkeys(p for c in caps for p in c.products)),
                items=list(dict.fromkeys(i for c in caps for i in c.items)),
            )
        )
    return ServicePage(
        id=service.id,
        title=service.title,
        domain=service.domain,
        domain_label=service.domain_label,
        clause=service.clause,
        description=service.description,
        acceptance_conditions=list(service.acceptance_conditions),
        materials=list(service.materials),
        process=list(service.process),
        commitment=service.commitment,
        sources=[s.label() for s in service.sources],
        institutions=offers,
        stations=[_station_item(s) for s in kb.stations_for(service.id)],
    )


def _check_domain(domain: str | None) -> None:
    if domain is not None and domain not in DOMAIN_LABELS:
        raise InvalidInput(
            f"未知的领域“{domain}”，可选：" + "、".join(DOMAIN_LABELS), code="domain_unknown"
        )


def institutions(*, domain: str | None = None, region: str | None = None) -> list[InstitutionItem]:
    _check_domain(domain)
    kb = live_knowledge()
    out = []
    for inst in kb.institutions:
        if inst.status != "published":
            continue
        if domain and domain not in inst.domains:
            continue
        if region and region not in inst.region:
            continue
        out.append(
            InstitutionItem(
                id=inst.id,
                title=inst.title,
                type=inst.type,
                region=inst.region,
                service_modes=list(inst.service_modes),
                rating=inst.rating,
                domains=inst.domains,
                summary=inst.summary(),
            )
        )
    return out


def institution_page(*, institution_id: str) -> InstitutionPage:
    kb = live_knowledge()
    inst = _published(kb, institution_id, Institution)
    if inst is None:
        raise NotFound(f"没有找到服务机构“{institution_id}”，请从服务目录中选择。")
    services = []
    for service_id in inst.service_ids:
        ref = _service_ref(kb, service_id)
        if ref is None:
            continue
        caps = [c for c in inst.capabilities if c.service_id == service_id]
        services.append(
            ref.model_copy(
                update={
                    "products": list(dict.fromkeys(p for c in caps for p in c.products)),
                    "items": list(dict.fromkeys(i for c in caps for i in c.items)),
                    "standards": list(dict.fromkeys(s for c in caps for s in c.standards)),
                }
            )
        )
    return InstitutionPage(
        id=inst.id,
        title=inst.title,
        type=inst.type,
        region=inst.region,
        address=inst.address,
        hours=inst.hours,
        phone=inst.contact.phone,
        service_modes=list(inst.service_modes),
        rating=inst.rating,
        description=inst.description,
        qualifications=[
            Qualification(kind=q.kind, number=q.number, scope=list(q.scope))
            for q in inst.qualifications
        ],
        services=services,
        stations=[
            _station_item(s)
            for s in kb.stations
            if s.status == "published" and s.region == inst.region
        ],
    )


def stations(*, domain: str | None = None) -> list[StationItem]:
    _check_domain(domain)
    kb = live_knowledge()
    return [
        _station_item(s)
        for s in kb.stations
        if s.status == "published" and (domain is None or domain in s.domains)
    ]


def station_page(*, station_id: str) -> StationPage:
    kb = live_knowledge()
    station = _published(kb, station_id, Station)
    if station is None:
        raise NotFound(f"没有找到服务站点“{station_id}”，请从服务目录中选择。")
    refs = [_service_ref(kb, sid) for sid in station.services]
    return StationPage(
        **_station_item(station).model_dump(),
        description=station.description,
        services=[r for r in refs if r is not None],
    )


def _relevant(hit: Hit, min_score: float) -> bool:
    """A keyword of the query in the entry (BM25), or a close semantic match: the search box
    does not fill up with the nearest of unrelated entries."""
    return hit.lexical >= LEXICAL_MIN or hit.score >= min_score


def search(*, query: str, domain: str | None = None) -> CatalogueSearch:
    """Keyword search (§7.2.1) over services, institutions and stations at once."""
    _check_domain(domain)
    searcher = get_searcher()
    filters = Filters(domain=domain)
    kb = live_knowledge()
    min_score = get_retrieval_settings().min_score
    found: dict[str, list[SearchResult]] = {}
    for kind in ("service", "institution", "station"):
        hits = searcher.search(query, kind=kind, k=SEARCH_K, filters=filters)
        found[kind] = [
            SearchResult(
                id=h.id,
                kind=kind,
                title=h.title,
                summary=h.entry.summary(),
                score=round(h.score, 4),
            )
            for h in hits
            if _relevant(h, min_score) and kb.get(h.id) is not None  # live may be a step ahead
        ]
    return CatalogueSearch(
        query=query,
        services=found["service"],
        institutions=found["institution"],
        stations=found["station"],
    )
