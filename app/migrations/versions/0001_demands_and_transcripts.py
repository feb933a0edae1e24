"""Demands and chat transcripts.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "demands",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("conversation_id", sa.String(80), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("need_text", sa.Text(), nullable=False),
        sa.Column("product", sa.String(100), nullable=False),
        sa.Column("place", sa.String(100), nullable=False),
        sa.Column("contact_name", sa.String(40), nullable=False),
        sa.Column("contact_mobile", sa.String(20), nullable=False),
        sa.Column("service_ids", sa.JSON(), nullable=False),
        sa.Column("institution_ids", sa.JSON(), nullable=False),
        sa.Column("recommended_by", sa.String(20), nullable=False),
        sa.Column("idempotency_key", sa.String(120), nullable=True),
        sa.Column("respond_due", sa.Date(), nullable=False),
        sa.Column("recommend_due", sa.Date(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("number", name="uq_demands_number"),
        sa.UniqueConstraint("idempotency_key", name="uq_demands_idempotency_key"),
    )
    op.create_index("ix_demands_conversation_id", "demands", ["conversation_id"])
    op.create_table(
        "number_sequences",
        sa.Column("prefix", sa.String(20), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False),
    )
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(80), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("ix_chat_messages_conversation_id", "chat_messages", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("chat_messages")
    op.drop_table("number_sequences")
    op.drop_table("demands")
