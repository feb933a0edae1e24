"""Users, logins and the first admin; keyword-only, free of HTTP."""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from desk import audit
from desk.clock import now
from desk.errors import DeskError, NotFound
from desk.users import lockout
from desk.users.models import LoginSession, User
from desk.users.passwords import hash_password, verify_password
from knowledge.personal_data import mask_text

log = logging.getLogger(__name__)
SESSION_TTL = timedelta(hours=8)


class LoginFailed(DeskError):
    code = "login_failed"
    status = 401


@dataclass(frozen=True)
class Principal:
    """Who is calling: a console user, or the bot with the service token."""

    username: str
    role: str  # admin | staff | expert | service
    user_id: int | None = None
    must_change_password: bool = False  # the printed first password: nothing else until changed


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountDisabled(DeskError):
    code = "account_disabled"
    status = 403


def login_subject(session: Session, *, username: str) -> str:
    """How the audit log names a login under ``username``: the account when there is one, else
    the name tried (masked: people type a mobile number into the wrong field)."""
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        return user_subject(username)
    return f"login:{mask_text(username)}"


def user_subject(username: str) -> str:
    return f"user:{username}"


def login(
    session: Session, *, username: str, password: str, moment: datetime | None = None
) -> tuple[str, datetime, User]:
    """A console login; every attempt is in the audit log (never the password).

    Raises :class:`LoginLocked` (too many failures), :class:`LoginFailed` (unknown name or wrong
    password, alike) or :class:`AccountDisabled` (the right password of a deactivated account)."""
    moment = moment or now()
    subject = login_subject(session, username=username)
    tried = subject.partition(":")[2]  # the name as the log may show it (masked if no account)
    try:
        lockout.ensure_unlocked(session, subject=subject, moment=moment)
    except lockout.LoginLocked:
        audit.record(session, actor=tried, action=lockout.LOCKED, subject=subject, at=moment)
        session.commit()
        raise
    user = session.scalar(select(User).where(User.username == username))
    # verify against a dummy hash for unknown users too, so timing does not reveal them
    stored = user.password_hash if user else _DUMMY_HASH
    if not verify_password(password, stored) or user is None:
        audit.record(session, actor=tried, action=lockout.FAILED, subject=subject, at=moment)
        session.commit()
        log.info("login failed subject=%s", subject)
        raise LoginFailed("用户名或密码错误。")
    if not user.active:
        audit.record(
            session, actor=username, action="auth.login_disabled", subject=subject, at=moment
        )
        session.commit()
        raise AccountDisabled("该账户已停用，请联系管理员。")
    token = secrets.token_urlsafe(32)
    expires_at = moment + SESSION_TTL
    session.execute(delete(LoginSession).where(LoginSession.expires_at < moment))
    session.add(LoginSession(token_hash=_token_hash(token), user_id=user.id, expires_at=expires_at))
    audit.record(
        session, actor=username, action="auth.login", subject=subject, details={}, at=moment
    )
    session.commit()
    return token, expires_at, user


def get_user(session: Session, *, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"未找到用户 {username}。")
    return user


def logout(session: Session, *, token: str) -> None:
    row = session.get(LoginSession, _token_hash(token))
    if row is None:
        return
    user = session.get(User, row.user_id)
    session.delete(row)
    if user is not None:
        audit.record(
            session, actor=user.username, action="auth.logout", subject=user_subject(user.username)
        )
    session.commit()


def end_sessions(session: Session, *, user_id: int, keep_token_hash: str | None = None) -> int:
    """End the user's logins at once (their next request is 401), in the caller's transaction;
    ``keep_token_hash`` spares the one in use. Returns how many ended."""
    query = delete(LoginSession).where(LoginSession.user_id == user_id)
    if keep_token_hash is not None:
        query = query.where(LoginSession.token_hash != keep_token_hash)
    result = session.execute(query.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def principal_for_token(session: Session, *, token: str) -> Principal | None:
    return principal_for_token_hash(session, token_hash=_token_hash(token))


def token_hash(token: str) -> str:
    """What the database keeps of a login token (a stream ticket names the login by it)."""
    return _token_hash(token)


def principal_for_token_hash(session: Session, *, token_hash: str) -> Principal | None:
    row = session.get(LoginSession, token_hash)
    if row is None:
        return None
    expires_at = row.expires_at
    if expires_at.tzinfo is None:  # SQLite returns naive datetimes
        expires_at = expires_at.replace(tzinfo=now().tzinfo)
    if expires_at <= now():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return Principal(
        username=user.username,
        role=user.role,
        user_id=user.id,
        must_change_password=user.must_change_password,
    )


class PasswordRejected(DeskError):
    code = "password_rejected"
    status = 422


MIN_PASSWORD = 10


def change_password(
    session: Session, *, user_id: int, current: str, new: str, keep_token_hash: str | None = None
) -> None:
    """The user's own change: the current password proves it is them; the new one differs.
    The user's other logins end (a password someone else knew stops working everywhere)."""
    user = session.get(User, user_id)
    if user is None or not verify_password(current, user.password_hash):
        raise PasswordRejected("当前密码不正确。", code="wrong_password")
    if len(new) < MIN_PASSWORD:
        raise PasswordRejected(f"新密码至少需要 {MIN_PASSWORD} 位。")
    if new == current:
        raise PasswordRejected("新密码不能与当前密码相同。")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    ended = end_sessions(session, user_id=user.id, keep_token_hash=keep_token_hash)
    audit.record(
        session,
        actor=user.username,
        action="auth.password_change",
        subject=user_subject(user.username),
        details={"other_sessions_ended": ended},
    )
    session.commit()
    log.info("password changed user=%s", user.username)


def ensure_admin(session: Session, *, username: str, password: str | None) -> str | None:
    """Create the first admin when there is none; returns a generated password to print once."""
    if session.scalar(select(User).where(User.role == "admin")):
        return None
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    session.add(
        User(
            username=username,
            display_name="管理员",
            role="admin",
            password_hash=hash_password(password),
            must_change_password=generated is not None,  # the printed one is changed first
        )
    )
    session.commit()
    log.info("first admin user %s created", username)
    return generated


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def display_names(session: Session) -> dict[str, str]:
    """Username → the name people see, for every console user."""
    return {str(u): str(n) for u, n in session.execute(select(User.username, User.display_name))}
