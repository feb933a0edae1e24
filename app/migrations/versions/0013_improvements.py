"""The dashboard: what the bot could not answer, and the improvement loop (§8.1.3, §8.2).

Revision ID: 0013i
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013i"
down_revision = "0012"
branch_labels = None
depends_on = None


def _created_at() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


REPORT_INDEXES = (
    ("demands", "created_at"),
    ("evaluations", "created_at"),
    ("escalations", "created_at"),
    ("complaints", "received_on"),
)


def upgrade() -> None:
    for table, column in REPORT_INDEXES:  # what the dashboard narrows each table by
        op.create_index(f"ix_{table}_{column}", table, [column])
    op.create_table(
        "unanswered_queries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(80), nullable=False),
        sa.Column("message_id", sa.String(80), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("normalised", sa.String(200), nullable=False),
        _created_at(),
        sa.UniqueConstraint("conversation_id", "message_id", name="uq_unanswered_message"),
    )
    op.create_index("ix_unanswered_queries_created_at", "unanswered_queries", ["created_at"])
    op.create_index("ix_unanswered_queries_normalised", "unanswered_queries", ["normalised"])
    op.create_table(
        "improvement_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("source_key", sa.String(40), nullable=False),
        sa.Column("source_number", sa.String(20), nullable=False),
        sa.Column("institution_id", sa.String(60), nullable=True),
        sa.Column("domain", sa.String(24), nullable=True),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(40), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("recheck_note", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        _created_at(),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("number", name="uq_improvement_items_number"),
        sa.UniqueConstraint("source_key", name="uq_improvement_items_source_key"),
    )
    for column in ("source_number", "due_on", "status", "opened_on"):
        op.create_index(f"ix_improvement_items_{column}", "improvement_items", [column])
    op.create_table(
        "improvement_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "item_id",
            sa.Integer(),
            sa.ForeignKey("improvement_items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_improvement_events_item_id", "improvement_events", ["item_id"])
    op.create_table(
        "improvement_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "item_id",
            sa.Integer(),
            sa.ForeignKey("improvement_items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("media_type", sa.String(40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("original_name", sa.String(120), nullable=False),
        sa.Column("storage_name", sa.String(80), nullable=False),
        sa.Column("uploaded_by", sa.String(40), nullable=False),
        _created_at(),
        sa.UniqueConstraint("storage_name", name="uq_improvement_files_storage_name"),
    )
    op.create_index("ix_improvement_files_item_id", "improvement_files", ["item_id"])


def downgrade() -> None:
    for table, column in REPORT_INDEXES:
        op.drop_index(f"ix_{table}_{column}", table_name=table)
    op.drop_table("improvement_files")
    op.drop_table("improvement_events")
    op.drop_table("improvement_items")
    op.drop_table("unanswered_queries")
