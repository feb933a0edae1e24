"""Merge the customers, channels and escalations branches into one head.

Revision ID: 0010
Revises: 0007, 0008, 0009
"""

revision = "0010"
down_revision = ("0007", "0008", "0009")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
