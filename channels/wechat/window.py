"""The 48-hour window of customer-service messages (客服消息) and the quota spent in it.

One ``wechat_contacts`` row per follower: when the follower last got in touch, how many
messages went out since (a conditional UPDATE reserves one unit, so processes never overspend
together), whether they still follow the account, and the lease of the one sender that may
write to them at a time. Plain SQL on the caller's session; nothing here commits.
"""

from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from channels.contracts import Incoming
from channels.models import OutboxMessage, WeChatContact, utcnow

SEND_LEASE = timedelta(seconds=60)
NO_CONTACT = ("unsubscribe", "event:unsubscribe", "event:view", "event:location")


def openid_of(conversation_id: str) -> str:
    """The follower's openid of a WeChat conversation (``wx:<openid>``)."""
    return conversation_id.removeprefix("wx:")


def ensure_contact(session: Session, openid: str) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(WeChatContact)
        .values(openid=openid, last_contact_at=utcnow(), window_sent=0, subscribed=True)
        .on_conflict_do_nothing(index_elements=["openid"])
    )


class Window:
    def __init__(self, *, quota: int, window: timedelta) -> None:
        self.quota = quota
        self.window = window

    def contact(self, session: Session, openid: str, incoming: Incoming) -> bool:
        """The follower got in touch: a new window, held messages go. False: not a contact
        that opens one (unsubscribing, opening a menu link, a location report)."""
        ensure_contact(session, openid)
        contact = update(WeChatContact).where(WeChatContact.openid == openid)
        if incoming.kind in NO_CONTACT:
            if incoming.kind.endswith("unsubscribe"):
                session.execute(contact.values(subscribed=False))
            return False
        session.execute(contact.values(last_contact_at=utcnow(), window_sent=0, subscribed=True))
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.openid == openid, OutboxMessage.status == "held")
            .values(status="pending", attempts=0, next_attempt_at=None)
        )
        return True

    def reserve(self, session: Session, openid: str) -> bool:
        """One unit of the quota for the next message, if the window is open and not spent."""
        result = session.execute(
            update(WeChatContact)
            .where(
                WeChatContact.openid == openid,
                WeChatContact.subscribed.is_(True),
                WeChatContact.window_sent < self.quota,
                WeChatContact.last_contact_at > utcnow() - self.window,
            )
            .values(window_sent=WeChatContact.window_sent + 1)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def spent(self, session: Session, openid: str) -> bool:
        sent = session.scalar(
            select(WeChatContact.window_sent).where(WeChatContact.openid == openid)
        )
        return (sent or 0) >= self.quota

    def refund(self, session: Session, openid: str) -> None:
        session.execute(
            update(WeChatContact)
            .where(WeChatContact.openid == openid, WeChatContact.window_sent > 0)
            .values(window_sent=WeChatContact.window_sent - 1)
        )

    def close(self, session: Session, openid: str) -> None:
        """WeChat says the window is closed: nothing more until the next contact."""
        session.execute(
            update(WeChatContact)
            .where(WeChatContact.openid == openid)
            .values(window_sent=self.quota)
        )


def lease_sender(session: Session, openid: str) -> bool:
    """One sender per follower at a time, across processes (a lease, not a lock)."""
    now = utcnow()
    ensure_contact(session, openid)
    result = session.execute(
        update(WeChatContact)
        .where(
            WeChatContact.openid == openid,
            or_(WeChatContact.sending_until.is_(None), WeChatContact.sending_until < now),
        )
        .values(sending_until=now + SEND_LEASE)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_sender(session: Session, openid: str) -> None:
    session.execute(
        update(WeChatContact).where(WeChatContact.openid == openid).values(sending_until=None)
    )
