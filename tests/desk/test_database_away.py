"""A transaction waits for a database that is away for a moment (desk.db.run_transaction): on
the real PostgreSQL server reached through a proxy that cuts every connection and refuses new
ones, as a restart does."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from desk.db import get_engine, get_sessionmaker, run_transaction
from tests.tcp_proxy import TcpProxy


@pytest.fixture
def through_proxy(postgres_url: str) -> Iterator[tuple[str, TcpProxy]]:
    proxy = TcpProxy(5432)
    url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    assert url != postgres_url
    with get_sessionmaker(postgres_url)() as session:
        session.execute(text("CREATE TABLE away_probe (n integer PRIMARY KEY)"))
        session.commit()
    try:
        yield url, proxy
    finally:
        get_engine(url).dispose()
        proxy.close()


def rows(url: str) -> list[int]:
    with get_sessionmaker(url)() as session:
        return list(session.scalars(text("SELECT n FROM away_probe ORDER BY n")))


def test_a_transaction_during_a_restart_runs_once_the_database_is_back(
    through_proxy: tuple[str, TcpProxy],
) -> None:
    url, proxy = through_proxy
    sessions = get_sessionmaker(url)
    assert rows(url) == []  # a pooled connection, cut by the restart below
    attempts: list[float] = []

    def insert(session: Session, n: int) -> int:
        attempts.append(time.monotonic())
        session.execute(text("INSERT INTO away_probe (n) VALUES (:n)"), {"n": n})
        return n

    proxy.down()
    threading.Timer(1.5, proxy.up).start()
    started = time.monotonic()
    assert run_transaction(sessions, insert, 7) == 7
    assert 1.4 < time.monotonic() - started < 5
    assert len(attempts) > 1  # tried while it was away, then again when it was back
    assert rows(url) == [7]  # committed once
    assert proxy.dropped > 0


def test_a_database_away_for_longer_is_an_error_after_the_wait(
    through_proxy: tuple[str, TcpProxy],
) -> None:
    url, proxy = through_proxy
    proxy.down()
    started = time.monotonic()
    with pytest.raises(OperationalError):
        run_transaction(get_sessionmaker(url), lambda s: s.execute(text("SELECT 1")), away_s=1.0)
    assert time.monotonic() - started < 2.5


def test_a_failed_commit_is_never_sent_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = get_sessionmaker(f"sqlite:///{tmp_path / 'desk.db'}")
    calls: list[int] = []

    def commit(self: Session) -> None:
        lost = ConnectionResetError("server closed the connection unexpectedly")
        raise OperationalError("COMMIT", {}, lost, connection_invalidated=True)

    monkeypatch.setattr(Session, "commit", commit)
    with pytest.raises(OperationalError):  # it may have gone through: not run twice
        run_transaction(sessions, lambda s: calls.append(1))
    assert calls == [1]


def test_a_statement_that_fails_on_its_own_is_not_repeated(tmp_path: Path) -> None:
    sessions = get_sessionmaker(f"sqlite:///{tmp_path / 'desk.db'}")
    calls: list[int] = []

    def duplicate(session: Session) -> None:
        calls.append(1)
        session.execute(text("CREATE TABLE IF NOT EXISTS t (n integer PRIMARY KEY)"))
        session.execute(text("INSERT INTO t VALUES (1), (1)"))

    with pytest.raises(IntegrityError):
        run_transaction(sessions, duplicate)
    assert calls == [1]


def test_a_request_that_outlasts_the_wait_is_answered_503_in_chinese() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from desk import errors_http

    app = FastAPI()
    errors_http.install(app)

    @app.get("/away")
    def away() -> None:
        lost = ConnectionRefusedError("connection refused")
        raise OperationalError("SELECT 1", {}, lost)

    @app.get("/broken")
    def broken() -> None:
        raise IntegrityError("INSERT", {}, ValueError("duplicate key"))

    client = TestClient(app, raise_server_exceptions=False)
    answer = client.get("/away")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert answer.json() == {
        "detail": {"code": "database_unavailable", "message": "系统正在恢复，请稍后重试。"}
    }
    assert client.get("/broken").status_code == 500  # a fault of ours stays one
