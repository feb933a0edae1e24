"""The fixed choices an entry form offers: domains, types, modes and service ids."""

from typing import get_args

from sqlalchemy.orm import Session

from desk.knowledge import service
from desk.knowledge.schemas import Option, Vocabulary
from knowledge.constants import (
    DOMAIN_LABELS,
    SERVICE_IDS,
    InstitutionType,
    QualificationKind,
    ServiceMode,
    StationType,
    Validity,
)


def _same(values: tuple[str, ...]) -> list[Option]:
    """Options whose label is the value (the vocabulary is Chinese already)."""
    return [Option(value=v, label=v) for v in values]


def vocabulary(session: Session) -> Vocabulary:
    titles = {s.id: s.title for s in service.knowledge_of(session).services}
    return Vocabulary(
        domains=[Option(value=k, label=v) for k, v in DOMAIN_LABELS.items()],
        institution_types=_same(get_args(InstitutionType)),
        station_types=_same(get_args(StationType)),
        qualification_kinds=_same(get_args(QualificationKind)),
        service_modes=_same(get_args(ServiceMode)),
        validities=_same(get_args(Validity)),
        services=[
            Option(value=sid, label=f"{sid} {titles[sid]}" if sid in titles else sid)
            for sid in SERVICE_IDS
        ],
    )
