"""Merge the enterprise experience's branches (case lookup and kept notices, registration in chat,
FAQ answers for 猜你想问) into one head.

Revision ID: 0016
Revises: 0015a, 0015r, 0015s
"""

revision = "0016"
down_revision = ("0015a", "0015r", "0015s")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
