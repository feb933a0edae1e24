"""Customers, their conversations and verification reviews, consents, uploaded documents.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _created_at(name: str = "created_at") -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def _customer_fk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "customer_id",
        sa.Integer(),
        sa.ForeignKey("customers.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("contact_name", sa.String(40), nullable=True),
        sa.Column("mobile", sa.String(20), nullable=True),
        sa.Column("id_number", sa.String(18), nullable=True),
        sa.Column("credit_code", sa.String(18), nullable=True),
        sa.Column("verification", sa.String(12), nullable=False),
        sa.Column("created_by", sa.String(40), nullable=False),
        _created_at(),
        sa.UniqueConstraint("credit_code", name="uq_customers_credit_code"),
    )
    op.create_table(
        "customer_conversations",
        sa.Column("conversation_id", sa.String(80), primary_key=True),
        _customer_fk(),
        sa.Column("linked_by", sa.String(40), nullable=False),
        _created_at("linked_at"),
    )
    op.create_index(
        "ix_customer_conversations_customer_id", "customer_conversations", ["customer_id"]
    )
    op.create_table(
        "customer_reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        _customer_fk(),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("review_due", sa.Date(), nullable=False),
        sa.Column("document_ids", sa.JSON(), nullable=False),
        sa.Column("new_name", sa.String(100), nullable=True),
        sa.Column("changed_on", sa.Date(), nullable=True),
        sa.Column("submitted_by", sa.String(40), nullable=False),
        sa.Column("reviewer", sa.String(40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
    )
    op.create_index("ix_customer_reviews_customer_id", "customer_reviews", ["customer_id"])
    op.create_index("ix_customer_reviews_status", "customer_reviews", ["status"])
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(80), nullable=False),
        sa.Column("notice_version", sa.String(20), nullable=False),
        sa.Column("agreed", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(40), nullable=False),
        _created_at("at"),
    )
    op.create_index("ix_consents_conversation_id", "consents", ["conversation_id"])
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        _customer_fk(),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("media_type", sa.String(40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("original_name", sa.String(120), nullable=False),
        sa.Column("storage_name", sa.String(80), nullable=False),
        sa.Column("uploaded_by", sa.String(40), nullable=False),
        _created_at(),
        sa.UniqueConstraint("storage_name", name="uq_documents_storage_name"),
    )
    op.create_index("ix_documents_customer_id", "documents", ["customer_id"])


def downgrade() -> None:
    op.drop_table("documents")
    op.drop_table("consents")
    op.drop_table("customer_reviews")
    op.drop_table("customer_conversations")
    op.drop_table("customers")
