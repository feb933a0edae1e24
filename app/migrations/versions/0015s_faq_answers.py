"""Which FAQ entry answered which user message: the real questions 猜你想问 ranks.

Revision ID: 0015s
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015s"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(80), nullable=False),
        sa.Column("message_id", sa.String(80), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("faq_id", sa.String(60), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("conversation_id", "message_id", name="uq_faq_answer_message"),
    )
    op.create_index("ix_faq_answers_created_at", "faq_answers", ["created_at"])
    op.create_index("ix_faq_answers_faq_id", "faq_answers", ["faq_id"])


def downgrade() -> None:
    op.drop_index("ix_faq_answers_faq_id", table_name="faq_answers")
    op.drop_index("ix_faq_answers_created_at", table_name="faq_answers")
    op.drop_table("faq_answers")
