"""Typed entries of the knowledge base: services, institutions, stations and FAQs.

Names are English; the content (titles, descriptions, answers) is Simplified Chinese.
Each entry knows the text to index for semantic search (``search_text``) and a one-line
Chinese description (``summary``).
"""

import re
import unicodedata
from datetime import date
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from knowledge.constants import (
    KIND_LABELS,
    Domain,
    InstitutionType,
    Kind,
    QualificationKind,
    ServiceMode,
    StationType,
    Validity,
    domain_label,
    service_domain,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""A non-empty string (surrounding blanks stripped)."""

SUMMARY_LIMIT = 80
Status = Literal["draft", "published", "withdrawn"]
"""draft: being written; published: served by search; withdrawn: taken off, kept on record."""


def _clip(text: str, limit: int = SUMMARY_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _join(*parts: str | list[str]) -> str:
    out: list[str] = []
    for part in parts:
        items = part if isinstance(part, list) else [part]
        out.extend(item.strip().rstrip("。；;，,") for item in items if item and item.strip())
    return "；".join(dict.fromkeys(p for p in out if p))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRef(_Model):
    """A standard, regulation or policy an entry rests on."""

    code: Text  # e.g. "GB/T 19001-2016"
    title: Text  # e.g. "质量管理体系 要求"
    effective: date | None = None
    withdrawn: date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.effective and self.withdrawn and self.withdrawn < self.effective:
            raise ValueError("废止日期早于实施日期")
        return self

    def is_withdrawn(self, on: date) -> bool:
        return self.withdrawn is not None and self.withdrawn <= on

    def label(self) -> str:
        return f"{self.code}《{self.title.strip('《》')}》"


class Contact(_Model):
    """How to reach a desk. Sample data uses placeholders that reach nobody."""

    phone: Text
    email: Text | None = None
    person: Text | None = None


class EntryBase(_Model):
    kind: Kind
    id: Text
    title: Text
    version: int = Field(default=1, ge=1)
    status: Status = "published"
    owner: Text
    review_due: date
    sources: list[SourceRef] = Field(default_factory=list)
    keywords: list[Text] = Field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def withdrawn_sources(self, on: date) -> list[SourceRef]:
        """The cited standards or regulations withdrawn on or before ``on``."""
        return [source for source in self.sources if source.is_withdrawn(on)]

    def under_review(self, on: date) -> bool:
        """True when the entry rests on a withdrawn source: it must not be served silently."""
        return bool(self.withdrawn_sources(on))

    def search_text(self) -> str:
        raise NotImplementedError

    def summary(self) -> str:
        raise NotImplementedError


class Service(EntryBase):
    """A public QI service of the platform (one clause of §5.2, §5.3 or §6)."""

    kind: Literal["service"] = "service"
    domain: Domain
    clause: Text  # e.g. "6.1.2", "5.3 a)"
    description: Text  # the standard's own wording
    acceptance_conditions: list[Text] = Field(min_length=1)  # 受理条件
    materials: list[Text] = Field(min_length=1)  # 办事材料
    process: list[Text] = Field(min_length=2)  # 服务流程
    commitment: Text  # 服务承诺
    example_queries: list[Text] = Field(min_length=5)

    @property
    def domain_label(self) -> str:
        return domain_label(self.domain)

    def search_text(self) -> str:
        return _join(
            self.title, self.domain_label, self.description, self.keywords, self.example_queries
        )

    def summary(self) -> str:
        return _clip(f"{self.title}（{self.domain_label}）：{self.description}")


class Qualification(_Model):
    kind: QualificationKind
    number: Text  # fictional in sample data
    scope: list[Text] = Field(default_factory=list)


class Capability(_Model):
    """What an institution does under one service: products, items, method standards."""

    service_id: Text
    products: list[Text] = Field(default_factory=list)
    items: list[Text] = Field(default_factory=list)
    standards: list[Text] = Field(default_factory=list)


class Institution(EntryBase):
    """A service institution (入驻机构) that can take on enterprises' demands."""

    kind: Literal["institution"] = "institution"
    type: InstitutionType
    qualifications: list[Qualification] = Field(default_factory=list)
    capabilities: list[Capability] = Field(min_length=1)
    region: Text  # e.g. "江阴市周庄镇", "无锡市新吴区"
    address: Text
    service_modes: list[ServiceMode] = Field(min_length=1)
    hours: Text
    rating: float = Field(ge=0, le=5)
    contact: Contact
    description: Text

    @property
    def service_ids(self) -> list[str]:
        return list(dict.fromkeys(c.service_id for c in self.capabilities))

    @property
    def domains(self) -> list[str]:
        """Domain codes of the services it offers (by clause), in capability order."""
        return list(dict.fromkeys(service_domain(s) for s in self.service_ids))

    def search_text(self) -> str:
        products = [p for c in self.capabilities for p in c.products]
        items = [i for c in self.capabilities for i in c.items]
        standards = [s for c in self.capabilities for s in c.standards]
        return _join(
            self.title,
            self.type,
            self.region,
            self.description,
            self.keywords,
            "、".join(products),
            "、".join(items),
            "、".join(standards),
            "、".join(self.service_modes),
        )

    def summary(self) -> str:
        products = list(dict.fromkeys(p for c in self.capabilities for p in c.products))
        tail = "：" + "、".join(products[:3]) + ("等" if len(products) > 3 else "")
        return _clip(f"{self.title}（{self.type}，{self.region}）{tail}")


class Station(EntryBase):
    """An offline one-stop station (§5.2, §4.2)."""

    kind: Literal["station"] = "station"
    type: StationType
    region: Text
    address: Text
    hours: Text
    services: list[Text] = Field(min_length=1)  # service ids
    contact: Contact
    description: Text

    @property
    def domains(self) -> list[str]:
        """Domain codes of the services it serves (by clause), in the listed order."""
        return list(dict.fromkeys(service_domain(s) for s in self.services))

    def search_text(self) -> str:
        return _join(
            self.title, self.type, self.region, self.address, self.description, self.keywords
        )

    def summary(self) -> str:
        return _clip(f"{self.title}（{self.type}，{self.region}），{self.hours}")


class Faq(EntryBase):
    """A frequently asked procedural question with the platform's answer."""

    kind: Literal["faq"] = "faq"
    variants: list[Text] = Field(default_factory=list)
    answer: Text
    clause: Text | None = None  # the clause of DB3202/T 1063—2024 it rests on

    @property
    def domains(self) -> list[str]:
        """The domain of its clause: §6.1–§6.6 their domain, §6.7 and the platform's own services
        of §5.2/§5.3 "other"; none for the procedures of §7/§8 and the appendices."""
        clause = (self.clause or "").strip()
        if clause.startswith("6."):
            return [service_domain(clause)]
        if clause.startswith(("5.2", "5.3")):
            return ["other"]
        return []

    def search_text(self) -> str:
        return _join(self.title, self.variants, self.keywords, _clip(self.answer, 120))

    def summary(self) -> str:
        return _clip(f"{self.title} {self.answer}")


def standard_key(code: str) -> str:
    """A standard code folded for lookup: 「gb/t19001—2016」 and 「GB/T 19001-2016」 match."""
    folded = unicodedata.normalize("NFKC", code).upper()
    return re.sub(r"[\s　]+", "", folded.replace("—", "-").replace("－", "-").replace("／", "/"))


class Standard(EntryBase):
    """One standard of the standards table (§6.2.2): is it still valid, and what replaced it.

    ``validity`` is what staff recorded; ``validity_on(day)`` also follows the dates, so a
    withdrawal date that has passed reads 废止 and a future effective date 即将实施.
    """

    kind: Literal["standard"] = "standard"
    code: Text  # e.g. "GB/T 19001-2016"
    validity: Validity
    # validate_default: the rules below also run when a date is left out
    effective: date | None = Field(default=None, validate_default=True)  # 实施日期
    withdrawn: date | None = Field(default=None, validate_default=True)  # 废止日期
    replaced_by: Text | None = Field(default=None, validate_default=True)  # the replacing code
    note: Text | None = None

    @field_validator("effective")
    @classmethod
    def _effective_when_coming(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is None and info.data.get("validity") == "即将实施":
            raise ValueError("状态为即将实施时须填写实施日期")
        return value

    @field_validator("withdrawn")
    @classmethod
    def _withdrawn_when_withdrawn(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is None and info.data.get("validity") == "废止":
            raise ValueError("状态为废止时须填写废止日期")
        effective = info.data.get("effective")
        if value is not None and effective is not None and value < effective:
            raise ValueError("废止日期早于实施日期")
        return value

    @field_validator("replaced_by")
    @classmethod
    def _not_itself(cls, value: str | None, info: ValidationInfo) -> str | None:
        code = info.data.get("code")
        if value and code and standard_key(value) == standard_key(code):
            raise ValueError("代替标准不能是它自己")
        return value

    @property
    def key(self) -> str:
        return standard_key(self.code)

    def validity_on(self, day: date) -> str:
        if self.withdrawn is not None and self.withdrawn <= day:
            return "废止"
        if self.effective is not None and self.effective > day:
            return "即将实施"
        return "现行"  # a withdrawal still ahead, or an effective date passed

    def search_text(self) -> str:
        return _join(self.code, self.title, self.keywords)

    def summary(self) -> str:
        return _clip(f"{self.code}《{self.title}》（{self.validity}）")


Entry = Annotated[Service | Institution | Station | Faq | Standard, Field(discriminator="kind")]
ENTRY_ADAPTER: TypeAdapter[Entry] = TypeAdapter(Entry)
ENTRY_TYPES: dict[str, type[EntryBase]] = {
    "service": Service,
    "institution": Institution,
    "station": Station,
    "faq": Faq,
    "standard": Standard,
}


def parse_entry(data: object) -> Service | Institution | Station | Faq | Standard:
    """Validate one raw mapping (with its ``kind``) into a typed entry."""
    return ENTRY_ADAPTER.validate_python(data)
