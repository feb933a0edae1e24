"""The retention purge (PIPL Art. 19): personal data older than ``QCLINIC_RETENTION_DAYS`` leaves
the transcripts, Rasa's tracker store and the contact details of closed cases.

It runs inside the app (:class:`RetentionWorker`, started with the channels' other workers) and
from the command line (``python -m channels.privacy purge``). Several replicas may run the worker:
a lease on the job's row in ``job_runs`` (a conditional UPDATE, like ``chat_inbound``'s) gives
each day's run to one of them. The job keeps a watermark: rows older than it were purged, so a
run looks only at what aged past the retention since the last one. Erasing is idempotent, so a
run cut short (a crash, a deploy) is simply done again. Only counts reach the log.
"""

import asyncio
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from channels.models import as_utc, utcnow
from channels.privacy.erase import (
    contact_values,
    erase_tracker,
    erase_transcript,
    load_events,
    senders_between,
)
from channels.privacy.models import JobRun
from channels.transcript import ChatMessage
from desk.privacy.service import erase_closed_cases, held_values

log = logging.getLogger(__name__)

JOB = "privacy.retention"
LEASE = timedelta(hours=1)  # a run takes minutes; a crashed holder's lease runs out


def holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


@dataclass
class PurgeReport:
    conversations: int = 0
    transcript_rows: int = 0
    tracker_events: int = 0
    demands: int = 0
    complaints: int = 0
    cutoff: datetime | None = None
    since: datetime | None = None

    def line(self) -> str:
        return (
            f"conversations={self.conversations} transcript_rows={self.transcript_rows} "
            f"tracker_events={self.tracker_events} demands={self.demands} "
            f"complaints={self.complaints}"
        )


def purge(
    session: Session,
    tracker: Engine,
    *,
    cutoff: datetime,
    since: datetime | None = None,
) -> PurgeReport:
    """Erase personal data from transcript rows and tracker events created in ``[since,
    cutoff)``, and the contact details of cases closed before ``cutoff``. Commits per
    conversation."""
    report = PurgeReport(cutoff=cutoff, since=since)
    query = select(ChatMessage.conversation_id).where(ChatMessage.created_at < cutoff)
    if since is not None:
        query = query.where(ChatMessage.created_at >= since)
    conversations = set(session.scalars(query.distinct()))
    conversations.update(
        senders_between(
            tracker,
            since=since.timestamp() if since else None,
            before=cutoff.timestamp(),
        )
    )
    for conversation_id in sorted(conversations):
        known = contact_values(load_events(tracker, conversation_id))
        known |= held_values(session, conversation_id=conversation_id)
        events = erase_tracker(
            tracker,
            sender_id=conversation_id,
            known=known,
            since=since.timestamp() if since else None,
            before=cutoff.timestamp(),
        )
        rows = erase_transcript(
            session, conversation_id=conversation_id, known=known, since=since, before=cutoff
        )
        session.commit()
        if rows or events.events:
            report.conversations += 1
        report.transcript_rows += rows
        report.tracker_events += events.events
    closed = erase_closed_cases(session, before=cutoff)
    session.commit()
    report.demands, report.complaints = len(closed.demands), len(closed.complaints)
    log.info("retention purge done %s", report.line())
    return report


# --- the lease ---------------------------------------------------------------------------------


def take_lease(session: Session, *, every: timedelta, now: datetime | None = None) -> JobRun | None:
    """The job's row when this process may run it now (due, and nobody else holds it)."""
    now = now or utcnow()
    if session.get(JobRun, JOB) is None:
        try:
            with session.begin_nested():
                session.add(JobRun(name=JOB))
        except IntegrityError:  # another replica created it at the same moment
            pass
        session.commit()
    result = session.execute(
        update(JobRun)
        .where(
            JobRun.name == JOB,
            (JobRun.lease_until.is_(None)) | (JobRun.lease_until < now),
            (JobRun.last_run_at.is_(None)) | (JobRun.last_run_at <= now - every),
        )
        .values(lease_until=now + LEASE, holder=holder())
    )
    session.commit()
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    run = session.scalars(select(JobRun).where(JobRun.name == JOB)).one()
    session.refresh(run)
    return run


def run_scheduled(
    sessions: sessionmaker[Session],
    tracker: Engine,
    *,
    retention: timedelta,
    every: timedelta,
    now: datetime | None = None,
) -> PurgeReport | None:
    """Run the purge when it is due and this process holds the lease; None otherwise."""
    now = now or utcnow()
    with sessions() as session:
        run = take_lease(session, every=every, now=now)
        if run is None:
            return None
        cutoff = now - retention
        try:
            report = purge(session, tracker, cutoff=cutoff, since=as_utc(run.watermark))
        except Exception:  # what was erased stays erased; the next check runs it again
            session.rollback()
            session.execute(
                update(JobRun).where(JobRun.name == JOB).values(lease_until=None, holder=None)
            )
            session.commit()
            raise
        session.execute(
            update(JobRun)
            .where(JobRun.name == JOB)
            .values(last_run_at=now, lease_until=None, holder=None, watermark=cutoff)
        )
        session.commit()
        return report


@dataclass
class RetentionWorker:
    """Checks every ``check_s`` whether the daily purge is due; one replica runs it."""

    sessions: sessionmaker[Session]
    tracker: Engine
    retention: timedelta
    every: timedelta = timedelta(days=1)
    check_s: float = 600.0
    reports: list[PurgeReport] = field(default_factory=list)

    async def run(self) -> None:
        while True:
            try:
                report = await asyncio.to_thread(
                    run_scheduled,
                    self.sessions,
                    self.tracker,
                    retention=self.retention,
                    every=self.every,
                )
                if report is not None:
                    self.reports[:] = [report]
            except Exception:  # the next check tries again; the error is logged (masked)
                log.exception("retention purge failed")
            await asyncio.sleep(self.check_s)
