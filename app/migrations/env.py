"""Alembic environment: runs on the engine the caller put in config.attributes."""

from alembic import context

from app.tables import load_all
from desk.db import Base

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
