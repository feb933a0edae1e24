"""Curated knowledge in the database: entries, their versions, publish jobs.

Revision ID: 0013k
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013k"
down_revision = "0012"
branch_labels = None
depends_on = None


def _at(name: str, *, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    if nullable:
        return sa.Column(name, sa.DateTime(timezone=True), nullable=True)
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "knowledge_entries",
        sa.Column("id", sa.String(60), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(40), nullable=False),
        _at("updated_at"),
    )
    op.create_index("ix_knowledge_entries_kind", "knowledge_entries", ["kind"])
    op.create_index("ix_knowledge_entries_status", "knowledge_entries", ["status"])
    op.create_table(
        "knowledge_entry_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "entry_id",
            sa.String(60),
            sa.ForeignKey("knowledge_entries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _at("created_at"),
        sa.UniqueConstraint("entry_id", "number", name="uq_knowledge_entry_version"),
    )
    op.create_index(
        "ix_knowledge_entry_versions_entry_id", "knowledge_entry_versions", ["entry_id"]
    )
    op.create_table(
        "knowledge_publish_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("entry_ids", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("index_version", sa.String(40), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _at("created_at"),
        _at("started_at", nullable=True),
        _at("finished_at", nullable=True),
    )
    op.create_index("ix_knowledge_publish_jobs_status", "knowledge_publish_jobs", ["status"])


def downgrade() -> None:
    op.drop_table("knowledge_publish_jobs")
    op.drop_table("knowledge_entry_versions")
    op.drop_table("knowledge_entries")
