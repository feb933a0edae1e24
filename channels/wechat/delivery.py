"""An expert's line follows its outbox row: sent, queued, or failed with WeChat's errcode,
set on the transcript line in the outbox's transaction, with a console event
(:func:`channels.transcript.set_delivery`)."""

from sqlalchemy.orm import Session

from channels import transcript
from channels.models import OutboxMessage

UNREACHABLE = frozenset({40003, 43004})  # unknown openid / not (any more) a follower
MAX_ATTEMPTS = 8  # the outbox's tries before a row is held for the next contact


def report(session: Session, rows: list[OutboxMessage], errmsg: str | None = None) -> None:
    """The transcript lines these rows send (an expert's) take the rows' delivery state."""
    for row in rows:
        if row.chat_message_id is None:
            continue
        code = row.error_code if row.error_code not in (None, -1) else None
        if row.status == "sent":
            state, code, errmsg = "sent", None, None
        elif row.status == "held":  # waits for the next contact, unless WeChat cannot reach them
            failed = code in UNREACHABLE or (row.attempts >= MAX_ATTEMPTS and code is not None)
            state = "failed" if failed else "queued"
        else:  # pending: refused or not reached, retried later
            state = "failed" if code is not None else "pending"
        transcript.set_delivery(
            session, message_id=row.chat_message_id, state=state, errcode=code, errmsg=errmsg
        )
