"""Demand details the enterprise gives in the chat: quantity, date, service mode, company.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("quantity", 50),
    ("wanted_date", 50),
    ("service_mode", 10),
    ("company_name", 100),
    ("credit_code", 18),
)


def upgrade() -> None:
    with op.batch_alter_table("demands") as batch:
        for name, length in _COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("demands") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
