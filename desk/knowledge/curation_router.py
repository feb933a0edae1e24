"""Routes of the search test, the review queue and the cited standards (/api/knowledge/…)."""

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from desk.clock import today
from desk.deps import SettingsDep, StaffDep
from desk.knowledge import exchange, publishing, recall, review, service, standards
from desk.knowledge.router import (
    KnowledgeSession,
    ReaderDep,
    RetrievalDep,
    detail_of,
    field_errors,
    start_publish,
)
from desk.knowledge.schemas import EntryDetail, Kind, Status
from desk.uploads.receive import read_upload
from retrieval.search import IndexMissing

router = APIRouter(prefix="/api/knowledge", tags=["knowledge"])
DEFAULT_KINDS: tuple[Kind, ...] = ("service", "institution", "faq")
IMPORT_MAX_BYTES = 5 * 1024 * 1024


class RecallIn(BaseModel):
    q: Annotated[str, Field(min_length=1, max_length=200)]
    kinds: list[Kind] = Field(default_factory=lambda: list(DEFAULT_KINDS))
    k: int = Field(default=5, ge=1, le=20)


@router.post("/search-test")
def search_test(body: RecallIn, caller: ReaderDep, retrieval: RetrievalDep) -> dict[str, Any]:
    """What the bot would retrieve, with the dense, lexical and fused scores."""
    try:
        return recall.recall(body.q, kinds=tuple(body.kinds), k=body.k, settings=retrieval)
    except IndexMissing as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail={"code": "index_missing", "message": str(exc)},
        ) from exc


# ── standards ────────────────────────────────────────────────────────────────────────────


class CitingPublic(BaseModel):
    id: str
    kind: str
    title: str
    status: str
    under_review: bool


class StandardPublic(BaseModel):
    code: str
    title: str
    effective: date | None
    withdrawn: date | None
    held_back: bool = Field(description="withdrawn on or before today: its entries are not served")
    entries: list[CitingPublic]
    validity: str | None = Field(
        default=None, description="the table's status today; null: not in it"
    )
    replaced_by: str | None = None
    entry_id: str | None = Field(default=None, description="the standards table's entry")


class StandardList(BaseModel):
    items: list[StandardPublic]


class WithdrawIn(BaseModel):
    code: str = Field(min_length=1, max_length=80)
    withdrawn: date | None = Field(description="the withdrawal date; null lifts it")
    publish: bool = True


class WithdrawOut(BaseModel):
    changed: list[str]
    job_id: int | None


@router.get("/standards", response_model=StandardList)
def list_standards(session: KnowledgeSession, caller: ReaderDep) -> StandardList:
    now = today()
    return StandardList(
        items=[
            StandardPublic(
                code=s.code,
                title=s.title,
                effective=s.effective,
                withdrawn=s.withdrawn,
                held_back=s.withdrawn is not None and s.withdrawn <= now,
                entries=[CitingPublic(**vars(c)) for c in s.entries],
                validity=s.validity,
                replaced_by=s.replaced_by,
                entry_id=s.entry_id,
            )
            for s in standards.cited(session, today=now)
        ]
    )


@router.post("/standards/withdraw", response_model=WithdrawOut)
def withdraw_standard(
    body: WithdrawIn,
    session: KnowledgeSession,
    caller: StaffDep,
    settings: SettingsDep,
    retrieval: RetrievalDep,
    tasks: BackgroundTasks,
) -> WithdrawOut:
    with field_errors():
        changed = standards.withdraw(
            session, code=body.code, withdrawn=body.withdrawn, actor=caller.username, today=today()
        )
    job_id = None
    pending = set(publishing.pending_ids(session, settings=retrieval))
    if body.publish and pending & set(changed):
        job = start_publish(
            session,
            actor=caller.username,
            settings=settings,
            retrieval=retrieval,
            tasks=tasks,
            entry_ids=changed,
        )
        job_id = job.id
    return WithdrawOut(changed=changed, job_id=job_id)


# ── review queue ─────────────────────────────────────────────────────────────────────────


class DraftPublic(BaseModel):
    id: int
    question: str
    answer: str
    domain: str | None
    author: str
    escalation_id: int | None
    suggestion: dict[str, Any]


class DueItem(BaseModel):
    entry_id: str
    kind: str
    title: str
    owner: str
    review_due: date
    reasons: list[str]
    withheld: bool


class ReviewQueue(BaseModel):
    drafts: list[DraftPublic]
    due: list[DueItem]


class DraftIn(BaseModel):
    question: str = Field(min_length=2, max_length=500)
    answer: str = Field(min_length=2, max_length=4000)
    domain: str | None = Field(default=None, max_length=24)


class ApproveIn(BaseModel):
    payload: dict[str, Any] = Field(description="the FAQ entry as edited (see suggestion)")
    publish: bool = True


class DismissIn(BaseModel):
    reason: str = Field(min_length=2, max_length=500)


@router.get("/review", response_model=ReviewQueue)
def review_queue(session: KnowledgeSession, caller: StaffDep) -> ReviewQueue:
    now = today()
    return ReviewQueue(
        drafts=[
            DraftPublic(
                id=d.id,
                question=d.question,
                answer=d.answer,
                domain=d.domain,
                author=d.author,
                escalation_id=d.escalation_id,
                suggestion=review.suggestion(d, today=now),
            )
            for d in review.open_drafts(session)
        ],
        due=[
            DueItem(
                entry_id=i.entry_id,
                kind=i.kind,
                title=i.title,
                owner=i.owner,
                review_due=i.review_due,
                reasons=list(i.reasons),
                withheld=i.withheld,
            )
            for i in review.due_entries(session, today=now)
        ],
    )


@router.post("/drafts", status_code=status.HTTP_201_CREATED)
def add_draft(body: DraftIn, session: KnowledgeSession, caller: StaffDep) -> dict[str, int]:
    draft = review.add_draft(
        session, question=body.question, answer=body.answer, domain=body.domain,
        actor=caller.username,
    )  # fmt: skip
    return {"id": draft.id}


@router.post("/drafts/{draft_id}/approve", response_model=EntryDetail)
def approve_draft(
    draft_id: int,
    body: ApproveIn,
    session: KnowledgeSession,
    caller: StaffDep,
    settings: SettingsDep,
    retrieval: RetrievalDep,
    tasks: BackgroundTasks,
) -> EntryDetail:
    with field_errors():
        row = review.approve(
            session, draft_id=draft_id, payload=body.payload, actor=caller.username, today=today()
        )
    if body.publish and row.id in publishing.pending_ids(session, settings=retrieval):
        start_publish(
            session,
            actor=caller.username,
            settings=settings,
            retrieval=retrieval,
            tasks=tasks,
            entry_ids=[row.id],
        )
    return detail_of(row, publishing.served(retrieval))


@router.post("/drafts/{draft_id}/dismiss", status_code=status.HTTP_204_NO_CONTENT)
def dismiss_draft(
    draft_id: int, body: DismissIn, session: KnowledgeSession, caller: StaffDep
) -> None:
    review.dismiss(session, draft_id=draft_id, reason=body.reason, actor=caller.username)


# ── import and export ────────────────────────────────────────────────────────────────────


class ImportOut(BaseModel):
    kind: str | None
    rows: int
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    errors: list[dict[str, Any]] = Field(description="{line, entry_id, reason, text} per bad row")
    warnings: list[dict[str, Any]]
    committed: bool


@router.post("/import", response_model=ImportOut)
async def import_table(
    request: Request,
    session: KnowledgeSession,
    caller: StaffDep,
    commit: bool = False,
) -> ImportOut:
    """Upload an XLSX/CSV: a preview (``commit=false``) or the all-or-nothing import."""
    upload = await read_upload(request, max_bytes=IMPORT_MAX_BYTES)
    outcome = await run_in_threadpool(
        lambda: exchange.import_table(
            session,
            filename=upload.filename,
            content=upload.content,
            actor=caller.username,
            today=today(),
            commit=commit,
        )
    )
    return ImportOut(**vars(outcome))


@router.get("/export")
def export_table(
    session: KnowledgeSession,
    caller: ReaderDep,
    kind: Kind,
    format_: Annotated[Literal["xlsx", "csv"], Query(alias="format")] = "xlsx",
    status_: Annotated[Status | None, Query(alias="status")] = None,
    domain: Annotated[str | None, Query(max_length=40)] = None,
    region: Annotated[str | None, Query(max_length=40)] = None,
    source: Annotated[str | None, Query(max_length=80)] = None,
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """The filtered list of one kind as a file (the columns the import reads back)."""
    filters = service.ListFilters(
        kind=kind, status=status_, domain=domain, region=region, source=source, q=q.strip()
    )
    rows, _ = service.list_rows(session, filters=filters, offset=0, limit=100_000)
    content = exchange.export_table([service.entry_of(r) for r in rows], kind=kind, fmt=format_)
    name = f"knowledge-{kind}-{today().isoformat()}.{format_}"
    return Response(
        content,
        media_type=exchange.MEDIA_TYPES[format_],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
