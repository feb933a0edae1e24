"""The migrations build exactly the schema the ORM models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.database import migrate
from app.tables import load_all
from desk.db import Base, get_engine


def test_migrations_match_models(database_url: str) -> None:
    load_all()
    migrate(database_url)
    migrate(database_url)  # idempotent
    with get_engine(database_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
