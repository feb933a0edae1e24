"""User administration (admins only): create, list and filter, edit, reset a password,
deactivate and reactivate console accounts."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from desk.clock import as_utc, now
from desk.deps import AdminDep, SessionDep
from desk.users import accounts, lockout, service
from desk.users.models import User
from desk.users.schemas import (
    Deactivation,
    PasswordReset,
    Role,
    UserCreate,
    UserCreated,
    UserList,
    UserPublic,
    UserUpdate,
)

router = APIRouter(prefix="/api/users", tags=["users"])


def _public(session: SessionDep, users: list[User]) -> list[UserPublic]:
    logins = accounts.last_logins(session, usernames=[u.username for u in users])
    held = accounts.active_consultations(session)
    moment = now()
    out = []
    for user in users:
        view = UserPublic.model_validate(user)
        view.domains = list(user.domains or [])
        view.created_at = as_utc(user.created_at)
        view.last_login_at = as_utc(logins.get(user.username))
        view.active_consultations = held[user.username]
        subject = service.user_subject(user.username)
        view.locked_until = lockout.state(session, subject=subject, moment=moment).locked_until
        out.append(view)
    return out


@router.post("", response_model=UserCreated, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, session: SessionDep, admin: AdminDep) -> UserCreated:
    """Without a password one is generated: it is in this answer only, never shown again."""
    user, generated = accounts.create(session, data=body, actor=admin.username, moment=now())
    view = _public(session, [user])[0]
    return UserCreated(**view.model_dump(), generated_password=generated)


@router.get("", response_model=UserList)
def list_users(
    session: SessionDep,
    _: AdminDep,
    role: Role | None = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=40)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> UserList:
    users, total = accounts.search(
        session,
        where=accounts.UserQuery(role=role, active=active, q=q),
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    return UserList(items=_public(session, users), total=total, page=page, page_size=page_size)


@router.get("/{username}", response_model=UserPublic)
def get_user(username: str, session: SessionDep, _: AdminDep) -> UserPublic:
    return _public(session, [service.get_user(session, username=username)])[0]


@router.put("/{username}", response_model=UserPublic)
def update_user(
    username: str, body: UserUpdate, session: SessionDep, admin: AdminDep
) -> UserPublic:
    user = accounts.update(
        session, username=username, data=body, actor=admin.username, moment=now()
    )
    return _public(session, [user])[0]


@router.post("/{username}/reset-password", response_model=PasswordReset)
def reset_password(username: str, session: SessionDep, admin: AdminDep) -> PasswordReset:
    """A generated password, in this answer only; the user's logins end and the new password
    must be changed at the next login."""
    password = accounts.reset_password(
        session, username=username, actor=admin.username, moment=now()
    )
    return PasswordReset(username=username, generated_password=password)


@router.post("/{username}/deactivate", response_model=Deactivation)
def deactivate_user(username: str, session: SessionDep, admin: AdminDep) -> Deactivation:
    done = accounts.deactivate(session, username=username, actor=admin.username, moment=now())
    return Deactivation(
        user=_public(session, [done.user])[0],
        sessions_ended=done.sessions_ended,
        consultations_requeued=done.consultations_requeued,
    )


@router.post("/{username}/reactivate", response_model=UserPublic)
def reactivate_user(username: str, session: SessionDep, admin: AdminDep) -> UserPublic:
    user = accounts.reactivate(session, username=username, actor=admin.username, moment=now())
    return _public(session, [user])[0]
