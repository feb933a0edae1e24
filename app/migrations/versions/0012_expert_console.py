"""The expert console: experts' domains and presence, consultation outcome and routing, private
notes, canned replies, knowledge drafts, the console's event log, delivery of expert replies.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _created_at() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch.add_column(sa.Column("domains", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("presence", sa.String(8), nullable=False, server_default="away"))
        batch.add_column(sa.Column("presence_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("domain", sa.String(24), nullable=True))
        batch.add_column(sa.Column("enterprise", sa.String(100), nullable=True))
        batch.add_column(sa.Column("need", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("offered_to", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(20), nullable=True))
        batch.add_column(sa.Column("notice", sa.String(20), nullable=True))
    with op.batch_alter_table("wechat_outbox") as batch:
        batch.add_column(sa.Column("chat_message_id", sa.Integer(), nullable=True))
    op.create_table(
        "consultation_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "escalation_id",
            sa.Integer(),
            sa.ForeignKey("escalations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("conversation_id", sa.String(80), nullable=False),
        sa.Column("author", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _created_at(),
    )
    op.create_index(
        "ix_consultation_notes_conversation_id", "consultation_notes", ["conversation_id"]
    )
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("shortcut", sa.String(32), nullable=False),
        sa.Column("title", sa.String(60), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("owner", sa.String(40), nullable=True),
        _created_at(),
    )
    op.create_index("ix_canned_replies_shortcut", "canned_replies", ["shortcut"])
    op.create_table(
        "knowledge_drafts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("domain", sa.String(24), nullable=True),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(40), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("decided_by", sa.String(40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        _created_at(),
    )
    op.create_index("ix_knowledge_drafts_status", "knowledge_drafts", ["status"])
    op.create_table(
        "console_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.String(80), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        _created_at(),
    )


def downgrade() -> None:
    op.drop_table("console_events")
    op.drop_table("knowledge_drafts")
    op.drop_table("canned_replies")
    op.drop_table("consultation_notes")
    with op.batch_alter_table("wechat_outbox") as batch:
        batch.drop_column("chat_message_id")
    with op.batch_alter_table("escalations") as batch:
        for name in (
            "notice",
            "outcome",
            "offered_to",
            "need",
            "enterprise",
            "domain",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("users") as batch:
        for name in ("presence_at", "presence", "domains", "must_change_password"):
            batch.drop_column(name)
