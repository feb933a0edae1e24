"""The whole assistant on free ports: real Rasa server, action server and app."""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from app.settings import AppSettings
from app.stack import Stack
from tests.e2e.wechat import wechat_app  # noqa: F401 - shared fixture
from tests.support import free_port


def stack_settings(database_url: str, **more: Any) -> AppSettings:
    """A whole assistant's settings on free ports, with tokens and a password of its own."""
    return AppSettings(
        database_url=database_url,
        port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        service_token=SecretStr("e2e-service-" + secrets.token_hex(8)),
        rasa_token=SecretStr("e2e-rasa-" + secrets.token_hex(8)),
        admin_password=SecretStr("e2e-admin-" + secrets.token_hex(8)),
        **more,
    )


@contextmanager
def running(stack: Stack, *, warm: bool = True) -> Iterator[Stack]:
    """The stack started and ready (warmed: model and index loaded); stopped afterwards, its
    logs' tails printed when it failed."""
    try:
        stack.start()
        stack.wait_ready(timeout_s=240)
        if warm:
            stack.warm()
        yield stack
    except Exception:
        for log in sorted(stack.log_dir.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}")
        raise
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def e2e_settings(tmp_path_factory: pytest.TempPathFactory) -> AppSettings:
    folder: Path = tmp_path_factory.mktemp("e2e")
    return stack_settings(f"sqlite:///{folder / 'desk.db'}")


@pytest.fixture(scope="session")
def stack(e2e_settings: AppSettings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running(Stack(settings=e2e_settings, log_dir=tmp_path_factory.mktemp("logs"))) as stack:
        yield stack


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database on the real PostgreSQL server (the app migrates it at start)."""
    import psycopg

    from tests.conftest import POSTGRES_ADMIN_URL

    name = f"qclinic_e2e_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The same stack on PostgreSQL: the desk, the transcripts and Rasa's tracker store in one
    new database on the real server."""
    folder: Path = tmp_path_factory.mktemp("e2e-pg")
    with (
        postgres_database() as url,
        running(Stack(settings=stack_settings(url), log_dir=folder / "logs")) as stack,
    ):
        yield stack


def on_both_databases(request: pytest.FixtureRequest, sqlite_stack: Stack) -> Stack:
    """For a module's own ``stack`` fixture parametrized ``["sqlite", "postgresql"]``."""
    return sqlite_stack if request.param == "sqlite" else request.getfixturevalue("pg_stack")


class Chat:
    """A user typing into the web chat API."""

    def __init__(self, stack: Stack, conversation_id: str) -> None:
        self.base = stack.settings.desk_url
        self.rasa = stack.settings.rasa_url
        self.token = stack.settings.secret("rasa_token")
        self.conversation_id = conversation_id

    def say(self, text: str) -> list[dict]:  # type: ignore[type-arg]
        response = httpx.post(
            f"{self.base}/api/chat/messages",
            json={"conversation_id": self.conversation_id, "text": text},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        messages: list[dict] = response.json()["messages"]  # type: ignore[type-arg]
        assert messages, f"no reply to {text!r}"
        return messages

    def tracker(self) -> dict:  # type: ignore[type-arg]
        response = httpx.get(
            f"{self.rasa}/conversations/{self.conversation_id}/tracker",
            params={"token": self.token},
            timeout=10,
        )
        response.raise_for_status()
        tracker: dict = response.json()  # type: ignore[type-arg]
        return tracker


@pytest.fixture
def chat(stack: Stack) -> Chat:
    return Chat(stack, f"web:e2e-{secrets.token_hex(8)}")
