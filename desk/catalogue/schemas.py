"""What the public catalogue API returns (read only, no personal data)."""

from pydantic import BaseModel, Field


class ServiceItem(BaseModel):
    id: str
    title: str
    domain: str
    domain_label: str
    summary: str
    institution_count: int = 0
    station_count: int = 0


class DomainItem(BaseModel):
    code: str
    label: str
    services: list[ServiceItem]


class Catalogue(BaseModel):
    """The six QI domains and §6.7 (其他/综合, with the platform's own services of §5)."""

    version: str | None = Field(description="版本号：发布新知识后立即变化")
    domains: list[DomainItem]


class Offer(BaseModel):
    """An institution offering one service: where, how, how well rated, and what it covers."""

    id: str
    title: str
    type: str
    region: str
    service_modes: list[str]
    rating: float
    products: list[str] = Field(default_factory=list)
    items: list[str] = Field(default_factory=list)


class StationItem(BaseModel):
    id: str
    title: str
    type: str
    region: str
    address: str
    hours: str
    phone: str


class ServicePage(BaseModel):
    """A service's operating manual (§4.1.1)."""

    id: str
    title: str
    domain: str
    domain_label: str
    clause: str
    description: str
    acceptance_conditions: list[str]
    materials: list[str]
    process: list[str]
    commitment: str
    sources: list[str]
    institutions: list[Offer]
    stations: list[StationItem]


class InstitutionItem(BaseModel):
    id: str
    title: str
    type: str
    region: str
    service_modes: list[str]
    rating: float
    domains: list[str]
    summary: str


class ServiceRef(BaseModel):
    id: str
    title: str
    domain_label: str
    products: list[str] = Field(default_factory=list)
    items: list[str] = Field(default_factory=list)
    standards: list[str] = Field(default_factory=list)


class Qualification(BaseModel):
    kind: str
    number: str
    scope: list[str]


class InstitutionPage(BaseModel):
    id: str
    title: str
    type: str
    region: str
    address: str
    hours: str
    phone: str
    service_modes: list[str]
    rating: float
    description: str
    qualifications: list[Qualification]
    services: list[ServiceRef]
    stations: list[StationItem]


class StationPage(StationItem):
    description: str
    services: list[ServiceRef]


class SearchResult(BaseModel):
    id: str
    kind: str
    title: str
    summary: str
    score: float


class CatalogueSearch(BaseModel):
    query: str
    services: list[SearchResult]
    institutions: list[SearchResult]
    stations: list[SearchResult]
