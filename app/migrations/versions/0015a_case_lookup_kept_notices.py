"""Reached after the conversation: cases found from any conversation (links, attempts) and the
notices kept for the enterprise's next contact.

Revision ID: 0015a
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015a"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("conversation_id", sa.String(80), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("number", "conversation_id", name="uq_case_links"),
    )
    op.create_index("ix_case_links_number", "case_links", ["number"])
    op.create_index("ix_case_links_conversation_id", "case_links", ["conversation_id"])
    op.create_table(
        "case_lookup_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(80), nullable=False),
        sa.Column("matched", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_case_lookup_attempts_conversation_id", "case_lookup_attempts", ["conversation_id"]
    )
    op.create_index("ix_case_lookup_attempts_at", "case_lookup_attempts", ["at"])
    op.create_table(
        "kept_notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(80), nullable=False),
        sa.Column("case_kind", sa.String(16), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("status_label", sa.String(40), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("buttons", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shown_in", sa.String(80), nullable=True),
    )
    op.create_index("ix_kept_notices_conversation_id", "kept_notices", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_kept_notices_conversation_id", "kept_notices")
    op.drop_table("kept_notices")
    op.drop_index("ix_case_lookup_attempts_at", "case_lookup_attempts")
    op.drop_index("ix_case_lookup_attempts_conversation_id", "case_lookup_attempts")
    op.drop_table("case_lookup_attempts")
    op.drop_index("ix_case_links_conversation_id", "case_links")
    op.drop_index("ix_case_links_number", "case_links")
    op.drop_table("case_links")
