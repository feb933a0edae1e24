"""Numbers people can read aloud (XQ20261123-0001), unique under concurrent creation.

A counter row per prefix is incremented inside the caller's transaction; the row lock (PostgreSQL)
or the write lock (SQLite) serialises writers until they commit, so no two get the same number.
"""

from sqlalchemy import Integer, String, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from desk.db import Base


class NumberSequence(Base):
    __tablename__ = "number_sequences"

    prefix: Mapped[str] = mapped_column(String(20), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


def next_number(session: Session, prefix: str, *, width: int = 4) -> str:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(NumberSequence).values(prefix=prefix, last=0).on_conflict_do_nothing())
    last = session.execute(
        update(NumberSequence)
        .where(NumberSequence.prefix == prefix)
        .values(last=NumberSequence.last + 1)
        .returning(NumberSequence.last)
    ).scalar_one()
    return f"{prefix}{last:0{width}d}"
