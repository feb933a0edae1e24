"""Shared fixtures: real databases (SQLite file and PostgreSQL), app settings, the app."""

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.main import create_desk_app
from app.settings import AppSettings
from desk.customers.settings import PrivacySettings, get_privacy_settings
from desk.provided import provided
from tests.retrieval_fixtures import retrieval_settings  # noqa: F401 - shared fixture
from tests.support import free_port

POSTGRES_ADMIN_URL = os.environ.get(
    "QCLINIC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e starts the real stack (make test-fast leaves it out)."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.e2e)


def _admin_execute(statement: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """One database brought to the newest migration per test session; each test's database is
    a copy of it (CREATE DATABASE … TEMPLATE: ~0.1 s instead of ~0.25 s of migrations)."""
    from app.database import migrate
    from desk.db import get_engine

    name = f"qclinic_tpl_{secrets.token_hex(6)}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    migrate(url)  # the migrations from nothing, on the real server, once per session
    get_engine(url).dispose()  # a template must have no connection while it is copied
    yield name
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    """A throw-away database on the real PostgreSQL server, migrated, dropped afterwards."""
    from desk.db import get_engine

    name = f"qclinic_t_{secrets.token_hex(6)}"
    _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    yield url
    get_engine(url).dispose()
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'desk.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def app_settings(tmp_path: Path, database_url: str) -> AppSettings:
    return AppSettings(
        var_dir=tmp_path / "var",
        database_url=database_url,
        service_token=SecretStr("test-service-" + secrets.token_hex(8)),
        rasa_token=SecretStr("test-rasa-" + secrets.token_hex(8)),
        rasa_port=free_port(),  # nothing listens there unless a test starts Rasa
        rasa_timeout_s=2,
        admin_password=SecretStr("admin-pass-123"),  # tests/desk/staff.py logs in with it
    )


@pytest.fixture
def client(app_settings: AppSettings) -> Iterator[TestClient]:
    app = create_desk_app(app_settings)  # no channel, no worker
    # The desk's own tests open demands and complaints without a chat before them; consent
    # (on by default) is tested in tests/desk/test_customers_consent.py and end to end.
    provided(app)[get_privacy_settings] = lambda: PrivacySettings(require_consent=False)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def service_headers(app_settings: AppSettings) -> dict[str, str]:
    return {"Authorization": f"Bearer {app_settings.secret('service_token')}"}
