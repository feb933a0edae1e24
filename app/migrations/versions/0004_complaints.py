"""Complaints and their timeline.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("conversation_id", sa.String(80), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("institution_name", sa.String(100), nullable=False),
        sa.Column("institution_id", sa.String(60), nullable=True),
        sa.Column("institution_title", sa.String(100), nullable=True),
        sa.Column("complaint_type", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("demand", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.String(40), nullable=True),
        sa.Column("contact_mobile", sa.String(20), nullable=True),
        sa.Column("follow_up_code_hash", sa.String(64), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("investigation_due", sa.Date(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(120), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("informed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("number", name="uq_complaints_number"),
        sa.UniqueConstraint("idempotency_key", name="uq_complaints_idempotency_key"),
    )
    op.create_index("ix_complaints_conversation_id", "complaints", ["conversation_id"])
    op.create_index("ix_complaints_institution_id", "complaints", ["institution_id"])
    op.create_index("ix_complaints_status", "complaints", ["status"])
    op.create_table(
        "complaint_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "complaint_id",
            sa.Integer(),
            sa.ForeignKey("complaints.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_complaint_events_complaint_id", "complaint_events", ["complaint_id"])


def downgrade() -> None:
    op.drop_table("complaint_events")
    op.drop_table("complaints")
