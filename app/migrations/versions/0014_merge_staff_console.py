"""Merge the staff console's branches (desk boards, improvements, knowledge store) into one head.

Revision ID: 0014
Revises: 0013d, 0013i, 0013k
"""

revision = "0014"
down_revision = ("0013d", "0013i", "0013k")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
