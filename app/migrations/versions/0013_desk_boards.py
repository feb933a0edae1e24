"""The desk's boards: who on the staff handles a demand or a complaint, and demands entered by
staff from a call, a visit or a letter (no conversation behind them).

Revision ID: 0013d
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013d"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("demands") as batch:
        batch.add_column(sa.Column("assignee", sa.String(40), nullable=True))
        batch.alter_column("conversation_id", existing_type=sa.String(80), nullable=True)
        batch.create_index("ix_demands_assignee", ["assignee"])
        batch.create_index("ix_demands_status", ["status"])
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("assignee", sa.String(40), nullable=True))
        batch.create_index("ix_complaints_assignee", ["assignee"])


def downgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.drop_index("ix_complaints_assignee")
        batch.drop_column("assignee")
    with op.batch_alter_table("demands") as batch:
        batch.drop_index("ix_demands_status")
        batch.drop_index("ix_demands_assignee")
        batch.alter_column("conversation_id", existing_type=sa.String(80), nullable=False)
        batch.drop_column("assignee")
