"""Registration in chat (§7.1.1): where a review came from and how its result was told, the
applicant's reason for a missing qualification, the materials a rejection names, and a key that
keeps a chat upload from being stored twice.

Revision ID: 0015r
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015r"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_reviews") as batch:
        batch.add_column(sa.Column("conversation_id", sa.String(80), nullable=True))
        batch.add_column(sa.Column("qualification_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("missing_documents", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("notice_how", sa.String(20), nullable=True))
        batch.add_column(sa.Column("notice_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("source_key", sa.String(120), nullable=True))
        batch.create_unique_constraint("uq_documents_source_key", ["source_key"])


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_constraint("uq_documents_source_key", type_="unique")
        batch.drop_column("source_key")
    with op.batch_alter_table("customer_reviews") as batch:
        for name in (
            "notice_reason",
            "notice_how",
            "missing_documents",
            "qualification_note",
            "conversation_id",
        ):
            batch.drop_column(name)
