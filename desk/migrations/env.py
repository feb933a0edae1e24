"""Alembic environment: runs on the engine the caller put in config.attributes."""

from alembic import context

from desk.db import Base
from desk.models import load_all

load_all()
config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
