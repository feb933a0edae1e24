"""Publish a change to every open console: a row in the caller's transaction, a wake-up after
its commit (so a console never sees a change that was rolled back, in any process)."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from desk.live.models import ConsoleEvent

CONSOLE_TOPIC = "console"
_WAKE_KEY = "qclinic_console_wake"
_wakers: list[Callable[[str], None]] = []


def add_waker(waker: Callable[[str], None]) -> Callable[[], None]:
    """Call ``waker(CONSOLE_TOPIC)`` after each commit that published; returns the remover."""
    _wakers.append(waker)
    return lambda: _wakers.remove(waker)


def publish(
    session: Session,
    *,
    kind: str,
    data: dict[str, Any],
    escalation_id: int | None = None,
    conversation_id: str | None = None,
) -> None:
    session.add(
        ConsoleEvent(
            kind=kind, data=data, escalation_id=escalation_id, conversation_id=conversation_id
        )
    )
    session.info[_WAKE_KEY] = True


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop(_WAKE_KEY, False):
        for waker in list(_wakers):
            waker(CONSOLE_TOPIC)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_WAKE_KEY, None)


def since(session: Session, *, after_id: int, limit: int = 200) -> list[ConsoleEvent]:
    query = (
        select(ConsoleEvent)
        .where(ConsoleEvent.id > after_id)
        .order_by(ConsoleEvent.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def last_id(session: Session) -> int:
    return int(session.scalar(select(func.max(ConsoleEvent.id))) or 0)
