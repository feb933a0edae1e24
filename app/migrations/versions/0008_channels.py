"""Channels: accepted user messages (de-duplication, pending turns), WeChat outbox and contacts.

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_inbound",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(80), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("dedupe_key", sa.String(160), nullable=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("bot_text", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery", sa.String(16), nullable=True),
        sa.Column("replies", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("dedupe_key", name="uq_chat_inbound_dedupe_key"),
    )
    op.create_index("ix_chat_inbound_conversation_id", "chat_inbound", ["conversation_id"])
    op.create_index("ix_chat_inbound_status", "chat_inbound", ["status"])
    op.create_table(
        "wechat_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_wechat_outbox_openid", "wechat_outbox", ["openid"])
    op.create_index("ix_wechat_outbox_status", "wechat_outbox", ["status"])
    op.create_table(
        "wechat_contacts",
        sa.Column("openid", sa.String(64), primary_key=True),
        sa.Column("last_contact_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_sent", sa.Integer(), nullable=False),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("sending_until", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("wechat_contacts")
    op.drop_table("wechat_outbox")
    op.drop_table("chat_inbound")
