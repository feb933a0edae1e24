"""The schema of every area: table registry and migrations (Alembic)."""

from pathlib import Path

from desk.db import get_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def migrate(url: str) -> None:
    """Bring the schema at ``url`` to the newest migration."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = get_engine(url)
    command.upgrade(config, "heads")  # parallel branches are merged by a later revision
