"""HTTP routes of knowledge curation (/api/knowledge/…); thin: the services do the work."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, status
from sqlalchemy.orm import Session

from desk.clock import as_utc, today
from desk.deps import SessionDep, SettingsDep, StaffDep, require_roles
from desk.knowledge import publishing, service
from desk.knowledge.models import KnowledgeEntry, KnowledgeEntryVersion, PublishJob
from desk.knowledge.schemas import (
    EntryCreate,
    EntryDetail,
    EntryPage,
    EntrySummary,
    EntryUpdate,
    FieldChange,
    HistoryPublic,
    Kind,
    PublishJobList,
    PublishJobPublic,
    PublishRequest,
    Restore,
    Status,
    StatusChange,
    VersionPublic,
    Vocabulary,
)
from desk.knowledge.vocabulary import vocabulary
from desk.users.service import Principal
from knowledge.constants import KIND_LABELS
from knowledge.store import KnowledgeBase
from retrieval.settings import RetrievalSettings, get_settings

router = APIRouter(prefix="/api/knowledge", tags=["knowledge"])
ReaderDep = Annotated[Principal, Depends(require_roles("expert", "staff", "admin"))]


def get_retrieval_settings() -> RetrievalSettings:
    """The index the desk publishes into (tests point it at a copy)."""
    return get_settings()


RetrievalDep = Annotated[RetrievalSettings, Depends(get_retrieval_settings)]


def seeded_session(session: SessionDep) -> Session:
    """The session, after a fresh install's first request loaded the sample knowledge."""
    service.ensure_seeded(session)
    return session


KnowledgeSession = Annotated[Session, Depends(seeded_session)]


@contextmanager
def field_errors() -> Iterator[None]:
    """An invalid entry answers 422 with one Chinese message per field for the form."""
    try:
        yield
    except service.EntryInvalid as exc:
        raise HTTPException(
            422,
            detail={"code": exc.code, "message": exc.message, "errors": exc.errors},
        ) from exc


def summary_of(row: KnowledgeEntry, live: KnowledgeBase) -> EntrySummary:
    entry = service.entry_of(row)
    return EntrySummary(
        id=row.id,
        kind=entry.kind,
        kind_label=KIND_LABELS[entry.kind],
        title=entry.title,
        status=entry.status,
        status_label=service.STATUS_LABELS[entry.status],
        version=row.version,
        owner=entry.owner,
        review_due=entry.review_due,
        domain=getattr(entry, "domain", None),
        region=getattr(entry, "region", None),
        sources=[s.code for s in entry.sources],
        under_review=entry.under_review(today()),
        pending=service.is_pending(row, live.get(row.id)),
        updated_by=row.updated_by,
        updated_at=as_utc(row.updated_at),
    )


def detail_of(row: KnowledgeEntry, live: KnowledgeBase) -> EntryDetail:
    return EntryDetail(**summary_of(row, live).model_dump(), payload=row.payload)


def job_public(job: PublishJob) -> PublishJobPublic:
    return PublishJobPublic(
        id=job.id,
        actor=job.actor,
        status=job.status,  # type: ignore[arg-type]
        status_label=publishing.STATUS_LABELS[job.status],
        entry_ids=list(job.entry_ids),
        total=job.total,
        done=job.done,
        index_version=job.index_version,
        error=job.error,
        created_at=as_utc(job.created_at),
        started_at=as_utc(job.started_at),
        finished_at=as_utc(job.finished_at),
    )


def version_public(version: KnowledgeEntryVersion) -> VersionPublic:
    return VersionPublic(
        number=version.number,
        actor=version.actor,
        action=version.action,
        note=version.note,
        summary=service.change_summary(version),
        changes=[FieldChange(**c) for c in version.changes],
        created_at=as_utc(version.created_at),
        payload=version.payload,
    )


def start_publish(
    session: Session,
    *,
    actor: str,
    settings: SettingsDep,
    retrieval: RetrievalSettings,
    tasks: BackgroundTasks,
    entry_ids: list[str] | None,
) -> PublishJob:
    job, created = publishing.create_job(
        session, actor=actor, settings=retrieval, entry_ids=entry_ids
    )
    if created:
        assert settings.database_url is not None
        tasks.add_task(publishing.run_job, settings.database_url, job.id, retrieval)
    return job


# ── entries ──────────────────────────────────────────────────────────────────────────────


@router.get("/entries", response_model=EntryPage)
def list_entries(
    session: KnowledgeSession,
    caller: ReaderDep,
    retrieval: RetrievalDep,
    kind: Kind | None = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    domain: Annotated[str | None, Query(max_length=40)] = None,
    region: Annotated[str | None, Query(max_length=40)] = None,
    source: Annotated[str | None, Query(max_length=80, description="a cited standard")] = None,
    q: Annotated[str, Query(max_length=100)] = "",
    pending_only: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> EntryPage:
    filters = service.ListFilters(
        kind=kind, status=status_, domain=domain, region=region, source=source, q=q.strip()
    )
    live = publishing.served(retrieval)
    pending = set(publishing.pending_ids(session, settings=retrieval))
    if pending_only:
        rows, _ = service.list_rows(session, filters=filters, offset=0, limit=100_000)
        rows = [r for r in rows if r.id in pending]
        total, rows = len(rows), rows[offset : offset + limit]
    else:
        rows, total = service.list_rows(session, filters=filters, offset=offset, limit=limit)
    return EntryPage(
        items=[summary_of(row, live) for row in rows],
        total=total,
        offset=offset,
        limit=limit,
        pending=len(pending),
    )


@router.get("/vocabulary", response_model=Vocabulary)
def entry_vocabulary(session: KnowledgeSession, caller: ReaderDep) -> Vocabulary:
    """The choices of the entry forms: domains, types, qualification kinds, modes, services."""
    return vocabulary(session)


@router.get("/entries/{entry_id}", response_model=EntryDetail)
def get_entry(
    entry_id: str, session: KnowledgeSession, caller: ReaderDep, retrieval: RetrievalDep
) -> EntryDetail:
    row = service.get_row(session, entry_id=entry_id)
    return detail_of(row, publishing.served(retrieval))


@router.post("/entries", response_model=EntryDetail, status_code=status.HTTP_201_CREATED)
def create_entry(
    body: EntryCreate, session: KnowledgeSession, caller: StaffDep, retrieval: RetrievalDep
) -> EntryDetail:
    with field_errors():
        row = service.create_entry(session, data=body.payload, actor=caller.username, today=today())
    return detail_of(row, publishing.served(retrieval))


@router.put("/entries/{entry_id}", response_model=EntryDetail)
def update_entry(
    entry_id: str,
    body: EntryUpdate,
    session: KnowledgeSession,
    caller: StaffDep,
    retrieval: RetrievalDep,
) -> EntryDetail:
    with field_errors():
        row = service.update_entry(
            session,
            entry_id=entry_id,
            data=body.payload,
            actor=caller.username,
            today=today(),
            expected_version=body.expected_version,
        )
    return detail_of(row, publishing.served(retrieval))


@router.post("/entries/{entry_id}/status", response_model=EntryDetail)
def change_status(
    entry_id: str,
    body: StatusChange,
    session: KnowledgeSession,
    caller: StaffDep,
    settings: SettingsDep,
    retrieval: RetrievalDep,
    tasks: BackgroundTasks,
) -> EntryDetail:
    with field_errors():
        row = service.set_status(
            session,
            entry_id=entry_id,
            status=body.status,
            actor=caller.username,
            today=today(),
            note=body.note,
        )
    if body.publish and entry_id in publishing.pending_ids(session, settings=retrieval):
        start_publish(
            session,
            actor=caller.username,
            settings=settings,
            retrieval=retrieval,
            tasks=tasks,
            entry_ids=[entry_id],
        )
    return detail_of(row, publishing.served(retrieval))


@router.get("/entries/{entry_id}/history", response_model=HistoryPublic)
def entry_history(entry_id: str, session: KnowledgeSession, caller: ReaderDep) -> HistoryPublic:
    items = service.history(session, entry_id=entry_id)
    return HistoryPublic(entry_id=entry_id, items=[version_public(v) for v in items])


@router.post("/entries/{entry_id}/restore", response_model=EntryDetail)
def restore_entry(
    entry_id: str,
    body: Restore,
    session: KnowledgeSession,
    caller: StaffDep,
    retrieval: RetrievalDep,
) -> EntryDetail:
    with field_errors():
        row = service.restore(
            session, entry_id=entry_id, number=body.number, actor=caller.username, today=today()
        )
    return detail_of(row, publishing.served(retrieval))


# ── publishing ───────────────────────────────────────────────────────────────────────────


@router.post("/publish", response_model=PublishJobPublic, status_code=status.HTTP_201_CREATED)
def publish(
    body: PublishRequest,
    session: KnowledgeSession,
    caller: StaffDep,
    settings: SettingsDep,
    retrieval: RetrievalDep,
    tasks: BackgroundTasks,
) -> PublishJobPublic:
    job = start_publish(
        session,
        actor=caller.username,
        settings=settings,
        retrieval=retrieval,
        tasks=tasks,
        entry_ids=body.entry_ids,
    )
    return job_public(job)


@router.get("/publish", response_model=PublishJobList)
def publish_jobs(
    session: KnowledgeSession, caller: StaffDep, retrieval: RetrievalDep
) -> PublishJobList:
    return PublishJobList(
        items=[job_public(j) for j in publishing.recent_jobs(session)],
        pending=publishing.pending_ids(session, settings=retrieval),
    )


@router.get("/publish/{job_id}", response_model=PublishJobPublic)
def publish_job(job_id: int, session: KnowledgeSession, caller: StaffDep) -> PublishJobPublic:
    return job_public(publishing.get_job(session, job_id=job_id))
