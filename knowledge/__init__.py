"""Knowledge base of the Quality Clinic: schema, seed entries (YAML), loader, validation.

Public API::

    from knowledge import load_knowledge, KnowledgeBase, Service, Institution, Station, Faq
"""

from knowledge.constants import (
    DOMAIN_LABELS,
    KIND_LABELS,
    REGIONS,
    SERVICE_IDS,
    domain_label,
    service_domain,
)
from knowledge.schema import (
    Capability,
    Contact,
    Entry,
    Faq,
    Institution,
    Qualification,
    Service,
    SourceRef,
    Standard,
    Station,
    parse_entry,
)
from knowledge.store import (
    DATA_DIR,
    KnowledgeBase,
    KnowledgeError,
    Problem,
    get_knowledge,
    load_knowledge,
)

__all__ = [
    "DATA_DIR",
    "DOMAIN_LABELS",
    "KIND_LABELS",
    "REGIONS",
    "SERVICE_IDS",
    "Capability",
    "Contact",
    "Entry",
    "Faq",
    "Institution",
    "KnowledgeBase",
    "KnowledgeError",
    "Problem",
    "Qualification",
    "Service",
    "SourceRef",
    "Standard",
    "Station",
    "domain_label",
    "get_knowledge",
    "load_knowledge",
    "parse_entry",
    "service_domain",
]
