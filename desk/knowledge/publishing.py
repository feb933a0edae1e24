"""Publishing: bring the live index to the database's entries, in the background.

A job names the entries whose database version differs from what the live index version
serves. ``run_job`` applies them through ``retrieval.lifecycle.upsert_entries`` — a new
index version beside the live one, swapped in atomically under the writer lock, so two
staff publishing at once take turns and neither change is lost. Every process (app
replicas, the action server) serves the new version at its next query, and
``retrieval.live.live_knowledge`` gives it to every other reader of the knowledge.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk import audit
from desk.clock import as_utc
from desk.db import get_sessionmaker
from desk.errors import DeskError, NotFound
from desk.knowledge.models import KnowledgeEntry, PublishJob
from desk.knowledge.service import entry_of, is_pending
from desk.live import events
from knowledge.store import KnowledgeBase
from retrieval.lifecycle import EntryRejected, upsert_entries
from retrieval.live import live_knowledge
from retrieval.search import IndexMissing
from retrieval.settings import RetrievalSettings

log = logging.getLogger(__name__)
OPEN = ("queued", "running")
PROGRESS_EVERY_S = 0.3
STALE_AFTER = timedelta(minutes=10)  # a publish of a few thousand entries takes well under this
STATUS_LABELS = {"queued": "排队中", "running": "发布中", "done": "已发布", "failed": "发布失败"}


class NothingToPublish(DeskError):
    code = "nothing_to_publish"
    status = 409


def served(settings: RetrievalSettings) -> KnowledgeBase:
    """What users are served right now: the live index version's entries."""
    return live_knowledge(settings, interval_s=0)


def pending_ids(session: Session, *, settings: RetrievalSettings) -> list[str]:
    """Entries whose database version is not what the live index serves."""
    live = served(settings)
    rows = session.scalars(select(KnowledgeEntry).order_by(KnowledgeEntry.id))
    return [row.id for row in rows if is_pending(row, live.get(row.id))]


def open_job(session: Session) -> PublishJob | None:
    """The oldest job still open; one left open by a process that stopped meanwhile (older
    than ``STALE_AFTER``) is closed as failed first, so it never blocks a new publication."""
    now = datetime.now(UTC)
    for job in session.scalars(
        select(PublishJob).where(PublishJob.status.in_(OPEN)).order_by(PublishJob.id)
    ):
        since = as_utc(job.started_at or job.created_at)
        if since is not None and now - since > STALE_AFTER:
            job.status, job.finished_at = "failed", now
            job.error = "发布中断（服务曾重启），请重新发布。"
            continue
        return job
    return None


def create_job(
    session: Session,
    *,
    actor: str,
    settings: RetrievalSettings,
    entry_ids: list[str] | None = None,
) -> tuple[PublishJob, bool]:
    """A job for ``entry_ids`` (default: everything pending); (job, created).

    A second click while a job for the same entries is still open returns that job.
    """
    pending = pending_ids(session, settings=settings)
    wanted = sorted(set(pending) & set(entry_ids)) if entry_ids is not None else pending
    if not wanted:
        raise NothingToPublish("没有待发布的修改：检索服务已是最新内容。")
    current = open_job(session)
    if current is not None and set(current.entry_ids) >= set(wanted):
        return current, False
    job = PublishJob(actor=actor, status="queued", entry_ids=wanted, total=len(wanted) + 1, done=0)
    session.add(job)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="knowledge.publish",
        subject=f"publish-{job.id}",
        details={"entries": wanted[:50], "count": len(wanted)},
    )
    session.commit()
    return job, True


def get_job(session: Session, *, job_id: int) -> PublishJob:
    job = session.get(PublishJob, job_id)
    if job is None:
        raise NotFound(f"没有编号为 {job_id} 的发布任务。")
    return job


def recent_jobs(session: Session, *, limit: int = 10) -> list[PublishJob]:
    return list(session.scalars(select(PublishJob).order_by(PublishJob.id.desc()).limit(limit)))


def _announce(session: Session, job: PublishJob) -> None:
    events.publish(
        session,
        kind="publish",
        data={
            "id": job.id,
            "status": job.status,
            "done": job.done,
            "total": job.total,
            "index_version": job.index_version,
            "error": job.error,
        },
    )


def run_job(database_url: str, job_id: int, settings: RetrievalSettings) -> None:
    """Apply one job to the index (in a worker thread; its own sessions)."""
    sessions = get_sessionmaker(database_url)
    with sessions() as session:
        job = session.get(PublishJob, job_id)
        if job is None or job.status != "queued":
            return
        job.status, job.started_at = "running", datetime.now(UTC)
        _announce(session, job)
        session.commit()
        rows = [session.get(KnowledgeEntry, entry_id) for entry_id in job.entry_ids]
        entries = [entry_of(row) for row in rows if row is not None]
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if done < total and now - last < PROGRESS_EVERY_S:
            return
        last = now
        with sessions() as s:
            current = s.get(PublishJob, job_id)
            if current is not None:
                current.done = min(done, current.total - 1)
                _announce(s, current)
                s.commit()

    error: str | None = None
    version: str | None = None
    started = time.perf_counter()
    try:
        manifest = upsert_entries(entries, settings=settings, progress=progress, source="database")
        version = manifest.version
    except (EntryRejected, IndexMissing) as exc:
        error = str(exc)
    except Exception as exc:  # the job must end in a state the console can show
        log.exception("publish job %s failed", job_id)
        error = f"发布失败：{type(exc).__name__}"
    with sessions() as session:
        job = session.get(PublishJob, job_id)
        assert job is not None
        job.finished_at = datetime.now(UTC)
        if error is None:
            job.status, job.done, job.index_version = "done", job.total, version
        else:
            job.status, job.error = "failed", error
        _announce(session, job)
        session.commit()
    log.info(
        "publish job %s %s: %d entries, index %s, %.2fs",
        job_id,
        "done" if error is None else "failed",
        len(entries),
        version,
        time.perf_counter() - started,
    )
