"""Demand timeline, evaluations, the holiday table.

Revision ID: 0005
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("demands") as batch:
        batch.add_column(sa.Column("chosen_institution_id", sa.String(60), nullable=True))
        batch.add_column(sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("recommended_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "demand_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "demand_id",
            sa.Integer(),
            sa.ForeignKey("demands.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_demand_events_demand_id", "demand_events", ["demand_id"])
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "demand_id",
            sa.Integer(),
            sa.ForeignKey("demands.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("process_score", sa.Integer(), nullable=False),
        sa.Column("efficiency_score", sa.Integer(), nullable=False),
        sa.Column("attitude_score", sa.Integer(), nullable=False),
        sa.Column("overall_score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("demand_id", name="uq_evaluations_demand_id"),
    )
    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(60), nullable=False),
    )
    op.create_table("calendar_years", sa.Column("year", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("calendar_years")
    op.drop_table("calendar_days")
    op.drop_table("evaluations")
    op.drop_table("demand_events")
    with op.batch_alter_table("demands") as batch:
        for column in ("completed_at", "recommended_at", "responded_at", "chosen_institution_id"):
            batch.drop_column(column)
