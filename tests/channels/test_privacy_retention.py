"""The retention purge (PIPL Art. 19) on SQLite and PostgreSQL: transcript rows and tracker
events older than the retention lose every mobile, ID number and contact name, newer ones stay
as they were; closed cases past the retention lose their contact; the daily run happens once
whatever the number of replicas; the operators' command does the same."""

import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.database import migrate
from channels.models import utcnow
from channels.privacy import __main__ as cli
from channels.privacy.erase import tracker_engine
from channels.privacy.models import JobRun
from channels.privacy.retention import JOB, run_scheduled
from desk.db import get_engine, get_sessionmaker
from desk.demands.models import Demand
from tests.channels.conftest import LiveFactory
from tests.channels.privacy_data import (
    ID_NUMBER,
    MOBILE,
    NAME,
    create_events_table,
    events_text,
    need_events,
    stored_events,
    transcript_text,
    write_events,
    write_transcript,
)
from tests.channels.servers import wait_until

RETENTION = timedelta(days=365)
DAY = timedelta(days=1)
OLD, NEW = "wx:oOldConversation01", "web:new-conversation-01"


@pytest.fixture
def stores(database_url: str) -> Iterator[tuple[sessionmaker[Session], Engine]]:
    migrate(database_url)
    tracker = tracker_engine(database_url)
    create_events_table(tracker)
    yield get_sessionmaker(database_url), tracker
    tracker.dispose()


def _demand(number: str, conversation_id: str, *, status: str, at: datetime) -> Demand:
    return Demand(
        number=number,
        conversation_id=conversation_id,
        channel="wechat",
        status=status,
        need_text="电线电缆检测",
        product="电线电缆",
        place="江阴市周庄镇",
        contact_name=NAME,
        contact_mobile=MOBILE,
        service_ids=["6.4.2"],
        institution_ids=[],
        recommended_by="bot",
        respond_due=date(2025, 1, 2),
        recommend_due=date(2025, 1, 6),
        completed_at=at if status == "completed" else None,
        created_at=at,
    )


def _seed(sessions: sessionmaker[Session], tracker: Engine) -> datetime:
    now = utcnow()
    old = now - RETENTION - 30 * DAY
    with sessions() as session:
        write_transcript(session, OLD, at=old)
        write_transcript(session, NEW, at=now - DAY)
        session.add(_demand("XQ20241001-0001", OLD, status="completed", at=old))
        session.add(_demand("XQ20241001-0002", OLD, status="in_service", at=old))
        session.commit()
    write_events(tracker, OLD, need_events(old.timestamp()))
    write_events(tracker, NEW, need_events((now - DAY).timestamp()))
    return now


def test_old_transcripts_and_trackers_lose_personal_data_new_ones_stay(
    stores: tuple[sessionmaker[Session], Engine],
) -> None:
    sessions, tracker = stores
    now = _seed(sessions, tracker)
    new_events_before = stored_events(tracker, NEW)
    with sessions() as session:
        new_transcript_before = transcript_text(session, NEW)

    report = run_scheduled(sessions, tracker, retention=RETENTION, every=DAY, now=now)

    assert report is not None
    assert (report.conversations, report.transcript_rows, report.demands) == (1, 5, 1)
    with sessions() as session:
        old_rows = transcript_text(session, OLD)
        for datum in (MOBILE, NAME, ID_NUMBER, "139****5678"):
            assert datum not in old_rows
        assert "我的手机是[已删除]，身份证[已删除]" in old_rows
        assert "我们有一批电线电缆需要检测" in old_rows  # the need itself stays
        assert transcript_text(session, NEW) == new_transcript_before
        demands = {d.number: d for d in session.scalars(select(Demand))}
        closed, open_ = demands["XQ20241001-0001"], demands["XQ20241001-0002"]
        assert (closed.contact_name, closed.contact_mobile) == ("[已删除]", "")
        assert (closed.need_text, closed.product) == ("电线电缆检测", "电线电缆")
        assert (open_.contact_name, open_.contact_mobile) == (NAME, MOBILE)  # still served
        run = session.get(JobRun, JOB)
        assert run is not None and run.lease_until is None and run.last_run_at is not None
    old_events = events_text(tracker, OLD)
    for datum in (MOBILE, NAME, ID_NUMBER):
        assert datum not in old_events
    slots = {e["name"]: e["value"] for _, e in stored_events(tracker, OLD) if e["event"] == "slot"}
    assert slots["contact_mobile"] is None and slots["contact_name"] is None
    assert slots["need_product"] == "电线电缆" and slots["privacy_consent"] is True
    assert stored_events(tracker, NEW) == new_events_before  # same ids, same events
    assert len(stored_events(tracker, OLD)) == len(need_events(0.0))  # nothing lost, in order
    assert [e["event"] for _, e in stored_events(tracker, OLD)] == [
        e["event"] for e in need_events(0.0)
    ]


def test_the_purge_is_daily_and_idempotent(stores: tuple[sessionmaker[Session], Engine]) -> None:
    sessions, tracker = stores
    now = _seed(sessions, tracker)
    assert run_scheduled(sessions, tracker, retention=RETENTION, every=DAY, now=now) is not None
    ids = [i for i, _ in stored_events(tracker, OLD)]
    later = now + timedelta(hours=3)
    assert run_scheduled(sessions, tracker, retention=RETENTION, every=DAY, now=later) is None
    again = run_scheduled(sessions, tracker, retention=RETENTION, every=DAY, now=now + DAY)
    assert again is not None
    assert (again.conversations, again.transcript_rows, again.tracker_events) == (0, 0, 0)
    assert [i for i, _ in stored_events(tracker, OLD)] == ids  # nothing rewritten twice


def test_two_replicas_run_the_daily_purge_once(
    stores: tuple[sessionmaker[Session], Engine], database_url: str
) -> None:
    sessions, tracker = stores
    now = _seed(sessions, tracker)
    barrier = threading.Barrier(2)
    results: list[object] = []
    engines = []

    def replica() -> None:
        engine = get_engine(database_url)  # each replica its own engine and connections
        engines.append(engine)
        own = sessionmaker(bind=engine, expire_on_commit=False)
        barrier.wait()
        results.append(run_scheduled(own, tracker, retention=RETENTION, every=DAY, now=now))

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for engine in engines:
        engine.dispose()
    ran = [r for r in results if r is not None]
    assert len(results) == 2 and len(ran) == 1
    with sessions() as session:
        assert MOBILE not in transcript_text(session, OLD)


def test_a_lease_left_by_a_crashed_replica_runs_out(
    stores: tuple[sessionmaker[Session], Engine],
) -> None:
    sessions, tracker = stores
    now = _seed(sessions, tracker)
    with sessions() as session:
        session.add(JobRun(name=JOB, holder="gone:1", lease_until=now + timedelta(minutes=30)))
        session.commit()
    assert run_scheduled(sessions, tracker, retention=RETENTION, every=DAY, now=now) is None
    later = now + timedelta(hours=2)
    assert run_scheduled(sessions, tracker, retention=RETENTION, every=DAY, now=later) is not None


def test_the_operators_command_purges_and_prints_counts_only(
    stores: tuple[sessionmaker[Session], Engine],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
) -> None:
    sessions, tracker = stores
    _seed(sessions, tracker)
    monkeypatch.setenv("QCLINIC_DATABASE_URL", database_url)
    monkeypatch.setenv("QCLINIC_VAR_DIR", str(tmp_path))
    cli.get_channel_settings.cache_clear()
    try:
        assert cli.main(["purge", "--all"]) == 0
        assert cli.main(["purge", "--days", "0"]) == 2
    finally:
        cli.get_channel_settings.cache_clear()
    out = capsys.readouterr()
    assert "已清理超过 365 天的个人信息：conversations=1 transcript_rows=5" in out.out
    assert "保存期限至少为 1 天。" in out.err
    assert MOBILE not in out.out + out.err
    with sessions() as session:
        assert MOBILE not in transcript_text(session, OLD)
        assert MOBILE in transcript_text(session, NEW)


def test_a_conversation_without_a_tracker_table_is_still_purged(database_url: str) -> None:
    migrate(database_url)
    sessions = get_sessionmaker(database_url)
    tracker = create_engine("sqlite://")  # Rasa never ran: no events table
    now = utcnow()
    with sessions() as session:
        write_transcript(session, OLD, at=now - RETENTION - DAY)
    report = run_scheduled(sessions, tracker, retention=RETENTION, every=DAY, now=now)
    # the mobile: its line, the bot line echoing it, the kept message, the outbox
    assert report is not None and report.transcript_rows == 4
    with sessions() as session:
        assert MOBILE not in transcript_text(session, OLD)


def test_the_app_runs_the_purge_by_itself(sqlite_url: str, live: LiveFactory) -> None:
    migrate(sqlite_url)  # the data is there before the app starts, as after an upgrade
    sessions, tracker = get_sessionmaker(sqlite_url), tracker_engine(sqlite_url)
    create_events_table(tracker)
    _seed(sessions, tracker)
    live(retention_check_s=0.2)

    def purged() -> bool:  # the run finished: its rows erased, its end recorded
        with sessions() as session:
            run = session.get(JobRun, JOB)
            finished = run is not None and run.last_run_at is not None
            return finished and MOBILE not in transcript_text(session, OLD)

    wait_until(purged, timeout=20)
    assert MOBILE not in events_text(tracker, OLD)
    with sessions() as session:
        assert MOBILE in transcript_text(session, NEW)
        run = session.get(JobRun, JOB)
        assert run is not None and run.last_run_at is not None and run.watermark is not None


def test_a_failed_run_gives_the_lease_back(
    stores: tuple[sessionmaker[Session], Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    from channels.privacy import retention

    sessions, tracker = stores
    now = _seed(sessions, tracker)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(retention, "erase_closed_cases", broken)
    with pytest.raises(RuntimeError):
        run_scheduled(sessions, tracker, retention=RETENTION, every=DAY, now=now)
    monkeypatch.undo()
    with sessions() as session:
        run = session.get(JobRun, JOB)
        assert run is not None and run.lease_until is None and run.last_run_at is None
    report = run_scheduled(sessions, tracker, retention=RETENTION, every=DAY, now=now)
    assert report is not None and report.demands == 1  # done on the next check, not in an hour
