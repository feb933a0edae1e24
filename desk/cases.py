"""The one lifecycle of desk cases: demands (需求), complaints (投诉) and escalations (转人工).

A case is a record whose status moves along a fixed graph. Every move goes through here: the
graph is checked (:class:`IllegalTransition` otherwise), a step is added to the case's timeline
and an entry to the audit log, in the caller's transaction. Opening a case is the same move from
nothing, plus the race of two requests for one unique key (an idempotency key, the one active
escalation of a conversation): the loser rolls back and gets the winner's case.

Who may see or act on which case is decided here too (:func:`ensure_visible`,
:func:`ensure_listing_scoped`, :func:`ensure_holder`), so no router keeps a copy of its own.
Keyword-only and free of HTTP; the errors are domain errors that the app maps to status codes.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from desk import audit
from desk.customers.service import linked_conversations
from desk.errors import DeskError, Forbidden, NotFound
from desk.timeline import TimelineStep
from desk.users.service import Principal

BOT_ROLE = "service"  # the bot acts for one conversation at a time
SUPERVISOR_ROLES = frozenset({"staff", "admin"})


class IllegalTransition(DeskError):
    """The case's status does not lead to the one asked for."""

    code = "illegal_transition"
    status = 409


class NotYours(DeskError):
    """The case is held by someone else (an escalation claimed by another expert)."""

    code = "not_yours"
    status = 403


class Case(Protocol):
    """What the lifecycle needs of a case: its row id, its conversation and its status."""

    @property
    def id(self) -> int: ...

    @property
    def conversation_id(self) -> str | None: ...

    status: str


C = TypeVar("C", bound=Case)


@dataclass(frozen=True)
class CaseKind(Generic[C]):
    """Everything the lifecycle must know of one kind of case."""

    name: str  # prefix of its audit actions: demand → demand.create, demand.transition
    noun: str  # what people call it, e.g. 需求: 未找到该需求。
    transitions: Mapping[str, frozenset[str]]  # status → the statuses it may move to
    labels: Mapping[str, str]  # status → its words, e.g. 已响应
    step: type[TimelineStep]  # the table of its timeline
    step_owner: InstrumentedAttribute[int]  # the step's column naming the case, e.g. demand_id
    subject: Callable[[C], str]  # how the audit log names one case
    # who states "the case is in status X" in a refusal, when not the noun (该会话 for escalations)
    refusal_noun: str = ""
    # roles that may list these cases only for one conversation (the bot always)
    scoped_roles: frozenset[str] = field(default_factory=lambda: frozenset({BOT_ROLE}))

    def refusal(self, from_status: str, to_status: str) -> str:
        return (
            f"{self.refusal_noun or self.noun}当前状态为“{self.labels[from_status]}”，"
            f"不能变更为“{self.labels[to_status]}”。"
        )


# --- the lifecycle ------------------------------------------------------------------------------


def _add_step(
    session: Session,
    kind: CaseKind[C],
    case: C,
    *,
    from_status: str | None,
    to_status: str,
    actor: str,
    note: str,
    at: datetime | None,
) -> None:
    values: dict[str, Any] = {
        kind.step_owner.key: case.id,
        "from_status": from_status,
        "to_status": to_status,
        "actor": actor,
        "note": note,
    }
    if at is not None:  # else the database's clock
        values["at"] = at
    session.add(kind.step(**values))


def open_case(
    session: Session,
    kind: CaseKind[C],
    case: C,
    *,
    actor: str,
    note: str,
    details: dict[str, Any],
    winner: Callable[[], C | None],
    at: datetime | None = None,
) -> tuple[C, bool]:
    """Add ``case`` (already in its first status) with its first step and audit entry; commit.

    Returns (case, True). When a unique key refuses the insert because a concurrent request
    committed the same case first, rolls back and returns (``winner()``, False); if there is no
    winner the integrity error was something else and is raised.
    """
    session.add(case)
    try:
        session.flush()
        _add_step(
            session,
            kind,
            case,
            from_status=None,
            to_status=case.status,
            actor=actor,
            note=note,
            at=at,
        )
        audit.record(
            session,
            actor=actor,
            action=f"{kind.name}.create",
            subject=kind.subject(case),
            details=details,
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        if (existing := winner()) is not None:
            return existing, False
        raise
    return case, True


def ensure_allowed(kind: CaseKind[C], case: C, *, to: str, refusal: str | None = None) -> None:
    """Raise :class:`IllegalTransition` unless the case's status may move to ``to``."""
    if to not in kind.transitions[case.status]:
        raise IllegalTransition(refusal or kind.refusal(case.status, to))


def _step_and_audit(
    session: Session,
    kind: CaseKind[C],
    case: C,
    *,
    to: str,
    actor: str,
    note: str,
    action: str,
    details: dict[str, Any],
    at: datetime | None,
) -> None:
    _add_step(
        session, kind, case, from_status=case.status, to_status=to, actor=actor, note=note, at=at
    )
    audit.record(
        session,
        actor=actor,
        action=f"{kind.name}.{action}",
        subject=kind.subject(case),
        details=details,
    )


def transition(
    session: Session,
    kind: CaseKind[C],
    case: C,
    *,
    to: str,
    actor: str,
    note: str,
    action: str = "transition",
    details: dict[str, Any] | None = None,
    refusal: str | None = None,
    at: datetime | None = None,
) -> None:
    """Move the case to ``to``: check the graph, add the step and the audit entry.

    The audit entry is ``<kind>.<action>`` with ``details`` (by default the two statuses). The
    caller sets its own fields around the move and commits, so all of it is one transaction.
    """
    ensure_allowed(kind, case, to=to, refusal=refusal)
    _step_and_audit(
        session,
        kind,
        case,
        to=to,
        actor=actor,
        note=note,
        action=action,
        details={"from": case.status, "to": to} if details is None else details,
        at=at,
    )
    case.status = to


def reopen(
    session: Session,
    kind: CaseKind[C],
    case: C,
    *,
    to: str,
    from_statuses: Sequence[str],
    actor: str,
    note: str,
    refusal: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Move a finished case back to ``to`` on request (e.g. a complainant not satisfied with the
    outcome): outside the forward graph, only from ``from_statuses``; the step says why and the
    audit entry is ``<kind>.reopen``."""
    if case.status not in from_statuses:
        raise IllegalTransition(refusal)
    _step_and_audit(
        session,
        kind,
        case,
        to=to,
        actor=actor,
        note=note,
        action="reopen",
        details={"from": case.status, "to": to} if details is None else details,
        at=None,
    )
    case.status = to


def record_step(
    session: Session,
    kind: CaseKind[C],
    case: C,
    *,
    actor: str,
    note: str,
    action: str,
    details: dict[str, Any],
    at: datetime | None = None,
) -> None:
    """A step that keeps the status (a case handed to a colleague): timeline and audit only."""
    _step_and_audit(
        session,
        kind,
        case,
        to=case.status,
        actor=actor,
        note=note,
        action=action,
        details=details,
        at=at,
    )


def timeline(session: Session, kind: CaseKind[C], case: C) -> list[Any]:
    """The case's steps, oldest first (rows of ``kind.step``)."""
    order = inspect(kind.step).primary_key
    query = select(kind.step).where(kind.step_owner == case.id).order_by(*order)
    return list(session.scalars(query))


# --- who may see and act ------------------------------------------------------------------------


def is_bot(caller: Principal) -> bool:
    """The bot: it sees records only on behalf of the conversation it is talking in."""
    return caller.role == BOT_ROLE


def is_supervisor(caller: Principal) -> bool:
    return caller.role in SUPERVISOR_ROLES


def ensure_visible(
    session: Session,
    kind: CaseKind[C],
    case: C,
    *,
    caller: Principal,
    conversation_id: str | None,
) -> None:
    """The bot sees a case only on behalf of the customer's conversations that opened it (any of
    them: WeChat and web alike); other callers see what their role reaches. Else not found, so
    the bot cannot learn which numbers exist."""
    if not is_bot(caller):
        return
    if conversation_id and case.conversation_id in linked_conversations(
        session, conversation_id=conversation_id
    ):
        return
    raise NotFound(f"未找到该{kind.noun}。")


def ensure_listing_scoped(
    kind: CaseKind[Any], *, caller: Principal, conversation_id: str | None
) -> None:
    """Roles of ``kind.scoped_roles`` list cases only of one conversation they name."""
    if conversation_id or caller.role not in kind.scoped_roles:
        return
    if is_bot(caller):
        raise Forbidden(f"智能助手只能查询本会话的{kind.noun}。")
    raise Forbidden("您没有执行此操作的权限。")


def ensure_holder(*, holder: str | None, actor: str, supervisor: bool, refusal: str) -> None:
    """Only the person holding a case (the expert who claimed it) acts on it, or a supervisor."""
    if not supervisor and holder != actor:
        raise NotYours(refusal)
