"""The complainant's answer to 「您对处理结果是否满意？」 (§7.4.3) as a field of the complaint:
satisfied / unsatisfied (it asked for the complaint to be handled again) / not answered, and
when. Complaints already marked satisfied on their timeline get the field from that step.

Revision ID: 0018s
Revises: 0017p
"""

import sqlalchemy as sa
from alembic import op

revision = "0018s"
down_revision = "0017p"
branch_labels = None
depends_on = None

SATISFIED_NOTE = "投诉人对处理结果表示满意。"  # desk/complaints/service.py
UNSATISFIED_PREFIX = "投诉人对处理结果不满意"


def upgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("satisfaction", sa.String(12), nullable=True))
        batch.add_column(sa.Column("satisfaction_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_complaints_satisfaction", ["satisfaction"])
    complaints = sa.table(
        "complaints",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("satisfaction", sa.String),
        sa.column("satisfaction_at", sa.DateTime(timezone=True)),
    )
    events = sa.table(
        "complaint_events",
        sa.column("id", sa.Integer),
        sa.column("complaint_id", sa.Integer),
        sa.column("from_status", sa.String),
        sa.column("to_status", sa.String),
        sa.column("note", sa.Text),
        sa.column("at", sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    latest: dict[int, tuple[str | None, object]] = {}  # the answer to each latest outcome
    rows = bind.execute(
        sa.select(events.c.complaint_id, events.c.note, events.c.at, events.c.from_status)
        .where(
            sa.or_(
                events.c.note == SATISFIED_NOTE,
                events.c.note.like(UNSATISFIED_PREFIX + "%"),
                sa.and_(events.c.to_status == "resolved", events.c.from_status != "resolved"),
            )
        )
        .order_by(events.c.id)
    )
    for complaint_id, note, at, _from in rows:
        if note == SATISFIED_NOTE:
            latest[complaint_id] = ("satisfied", at)
        elif note.startswith(UNSATISFIED_PREFIX):
            latest[complaint_id] = ("unsatisfied", at)
        else:  # a new outcome: not answered yet
            latest[complaint_id] = (None, None)
    for complaint_id, (answer, at) in latest.items():
        if answer is not None:
            bind.execute(
                sa.update(complaints)
                .where(complaints.c.id == complaint_id)
                .values(satisfaction=answer, satisfaction_at=at)
            )


def downgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.drop_index("ix_complaints_satisfaction")
        batch.drop_column("satisfaction_at")
        batch.drop_column("satisfaction")
