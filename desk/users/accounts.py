"""Account administration by admins: create, list, edit, reset a password, deactivate and
reactivate; keyword-only, free of HTTP. Every change is in the audit log (``user.*``) with what
changed but never a password.

The last active admin can be neither deactivated nor made staff or expert: the console would
have nobody left to manage it.
"""

import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from desk import audit
from desk.audit import AuditEntry
from desk.cases import IllegalTransition
from desk.errors import InvalidInput
from desk.escalations.models import ACTIVE_STATUSES, Escalation
from desk.live import events as live
from desk.users import offboarding
from desk.users.models import User
from desk.users.passwords import hash_password
from desk.users.schemas import UserCreate, UserUpdate
from desk.users.service import end_sessions, get_user, user_subject

ROLE_LABELS = {"admin": "管理员", "staff": "工作人员", "expert": "专家"}


class LastAdmin(IllegalTransition):
    code = "last_admin"


def generate_password() -> str:
    """16 characters a person can copy: letters and digits, no look-alikes (0/O, 1/l/I)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def create(
    session: Session, *, data: UserCreate, actor: str, moment: datetime
) -> tuple[User, str | None]:
    """The new account and, when the admin gave no password, the generated one (shown once)."""
    if session.scalar(select(User).where(User.username == data.username)):
        raise InvalidInput(f"用户名 {data.username} 已存在。", code="username_taken")
    generated = None if data.password else generate_password()
    password = data.password or generated
    assert password is not None
    user = User(
        username=data.username,
        display_name=data.display_name,
        role=data.role,
        password_hash=hash_password(password),
        must_change_password=data.must_change_password or generated is not None,
        domains=[],
    )
    session.add(user)
    audit.record(
        session,
        actor=actor,
        action="user.create",
        subject=user_subject(data.username),
        details={
            "role": data.role,
            "display_name": data.display_name,
            "password": "generated" if generated else "set_by_admin",
            "must_change_password": user.must_change_password,
        },
        at=moment,
    )
    session.commit()
    return user, generated


@dataclass(frozen=True)
class UserQuery:
    role: str | None = None
    active: bool | None = None
    q: str | None = None  # a part of the username or the display name


def search(
    session: Session, *, where: UserQuery, offset: int = 0, limit: int = 50
) -> tuple[list[User], int]:
    conditions: list[Any] = []
    if where.role:
        conditions.append(User.role == where.role)
    if where.active is not None:
        conditions.append(User.active.is_(where.active))
    if where.q:
        conditions.append(
            or_(
                User.username.contains(where.q, autoescape=True),
                User.display_name.contains(where.q, autoescape=True),
            )
        )
    total = session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0
    query = (
        select(User)
        .where(*conditions)
        .order_by(User.active.desc(), User.role, User.username)
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(query)), int(total)


def last_logins(session: Session, *, usernames: list[str]) -> dict[str, datetime]:
    """Username → the time of their newest login (from the audit log)."""
    subjects = {user_subject(name): name for name in usernames}
    query = (
        select(AuditEntry.subject, func.max(AuditEntry.at))
        .where(AuditEntry.action == "auth.login", AuditEntry.subject.in_(list(subjects)))
        .group_by(AuditEntry.subject)
    )
    return {subjects[str(subject)]: at for subject, at in session.execute(query)}


def active_consultations(session: Session) -> Counter[str]:
    query = select(Escalation.expert).where(
        Escalation.status.in_(ACTIVE_STATUSES), Escalation.expert.is_not(None)
    )
    return Counter(str(name) for name in session.scalars(query))


def _ensure_other_admin(session: Session, *, user: User, refusal: str) -> None:
    """Refuse when ``user`` is the last active admin. The admins' rows are locked (PostgreSQL)
    so that two admins removing each other at once cannot both succeed."""
    if user.role != "admin" or not user.active:
        return
    admins = session.scalars(
        select(User.id).where(User.role == "admin", User.active.is_(True)).with_for_update()
    ).all()
    if [admin_id for admin_id in admins if admin_id != user.id] == []:
        raise LastAdmin(refusal)


def update(
    session: Session, *, username: str, data: UserUpdate, actor: str, moment: datetime
) -> User:
    user = get_user(session, username=username)
    changes: dict[str, Any] = {}
    if data.display_name is not None and data.display_name != user.display_name:
        changes["display_name"] = {"from": user.display_name, "to": data.display_name}
        user.display_name = data.display_name
    if data.role is not None and data.role != user.role:
        _ensure_other_admin(
            session,
            user=user,
            refusal="这是最后一位在用的管理员，不能改为其他角色。请先指定另一位管理员。",
        )
        changes["role"] = {"from": user.role, "to": data.role}
        if user.role == "expert":
            requeued = offboarding.release_expert(
                session, user=user, actor=actor, reason="已不再担任专家", moment=moment
            )
            changes["consultations_requeued"] = requeued
        user.role = data.role
    if changes:
        audit.record(
            session,
            actor=actor,
            action="user.update",
            subject=user_subject(username),
            details=changes,
            at=moment,
        )
    session.commit()
    return user


def _wake_streams(session: Session, user: User) -> None:
    """Open live streams re-check their login now, not at their next poll."""
    live.publish(session, kind="account", data={"username": user.username, "active": user.active})


def reset_password(session: Session, *, username: str, actor: str, moment: datetime) -> str:
    """A generated password (returned once), to change at the next login; the user's logins end."""
    user = get_user(session, username=username)
    password = generate_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    ended = end_sessions(session, user_id=user.id)
    _wake_streams(session, user)
    audit.record(
        session,
        actor=actor,
        action="user.password_reset",
        subject=user_subject(username),
        details={"sessions_ended": ended},
        at=moment,
    )
    session.commit()
    return password


@dataclass(frozen=True)
class Deactivated:
    user: User
    sessions_ended: int
    consultations_requeued: list[int]


def deactivate(session: Session, *, username: str, actor: str, moment: datetime) -> Deactivated:
    """The account can no longer log in; its logins end at once (the next request is 401, an
    open live stream closes); an expert's consultations go back to the queue."""
    user = get_user(session, username=username)
    if not user.active:
        # a second click: nothing more to do, nothing recorded twice
        return Deactivated(user=user, sessions_ended=0, consultations_requeued=[])
    if user.username == actor:
        raise IllegalTransition("不能停用自己正在使用的账户。", code="self_deactivation")
    _ensure_other_admin(
        session, user=user, refusal="这是最后一位在用的管理员，不能停用。请先指定另一位管理员。"
    )
    user.active = False
    ended = end_sessions(session, user_id=user.id)
    _wake_streams(session, user)
    requeued: list[int] = []
    if user.role == "expert":
        requeued = offboarding.release_expert(
            session, user=user, actor=actor, reason="的账户已停用", moment=moment
        )
    audit.record(
        session,
        actor=actor,
        action="user.deactivate",
        subject=user_subject(username),
        details={"sessions_ended": ended, "consultations_requeued": requeued},
        at=moment,
    )
    session.commit()
    return Deactivated(user=user, sessions_ended=ended, consultations_requeued=requeued)


def reactivate(session: Session, *, username: str, actor: str, moment: datetime) -> User:
    user = get_user(session, username=username)
    if user.active:
        return user
    user.active = True
    audit.record(
        session, actor=actor, action="user.reactivate", subject=user_subject(username), at=moment
    )
    session.commit()
    return user
