"""Users, logins and the first admin; keyword-only, free of HTTP."""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from desk.clock import now
from desk.errors import DeskError, InvalidInput, NotFound
from desk.users.models import LoginSession, User
from desk.users.passwords import hash_password, verify_password
from desk.users.schemas import UserCreate

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


def create_user(session: Session, *, data: UserCreate) -> User:
    if session.scalar(select(User).where(User.username == data.username)):
        raise InvalidInput(f"用户名 {data.username} 已存在。", code="username_taken")
    user = User(
        username=data.username,
        display_name=data.display_name,
        role=data.role,
        password_hash=hash_password(data.password),
    )
    session.add(user)
    session.commit()
    return user


def login(session: Session, *, username: str, password: str) -> tuple[str, datetime, User]:
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    # verify against a dummy hash for unknown users too, so timing does not reveal them
    stored = user.password_hash if user else _DUMMY_HASH
    if not verify_password(password, stored) or user is None:
        raise LoginFailed("用户名或密码错误。")
    token = secrets.token_urlsafe(32)
    expires_at = now() + SESSION_TTL
    session.execute(delete(LoginSession).where(LoginSession.expires_at < now()))
    session.add(LoginSession(token_hash=_token_hash(token), user_id=user.id, expires_at=expires_at))
    session.commit()
    return token, expires_at, user


def get_user(session: Session, *, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"未找到用户 {username}。")
    return user


def logout(session: Session, *, token: str) -> None:
    session.execute(delete(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
    session.commit()


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


def change_password(session: Session, *, user_id: int, current: str, new: str) -> None:
    """The user's own change: the current password proves it is them; the new one differs."""
    user = session.get(User, user_id)
    if user is None or not verify_password(current, user.password_hash):
        raise PasswordRejected("当前密码不正确。", code="wrong_password")
    if len(new) < MIN_PASSWORD:
        raise PasswordRejected(f"新密码至少需要 {MIN_PASSWORD} 位。")
    if new == current:
        raise PasswordRejected("新密码不能与当前密码相同。")
    user.password_hash = hash_password(new)
    user.must_change_password = False
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
