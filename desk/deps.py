"""FastAPI dependencies shared by the routers: settings, sessions, who is calling."""

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, status
from sqlalchemy.orm import Session

from desk.db import get_sessionmaker
from desk.provided import from_app
from desk.settings import DeskSettings, get_settings
from desk.users.service import Principal, principal_for_token

SettingsDep = Annotated[DeskSettings, Depends(from_app(get_settings))]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    assert settings.database_url is not None
    with get_sessionmaker(settings.database_url)() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _unauthorized(message: str = "请先登录。") -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail={"code": "unauthorized", "message": message},
        headers={"WWW-Authenticate": "Bearer"},
    )


def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized()
    return token


def get_principal(
    settings: SettingsDep, session: SessionDep, token: Annotated[str, Depends(bearer_token)]
) -> Principal:
    """The bot (service token) or a logged-in console user."""
    if hmac.compare_digest(token.encode(), settings.secret("service_token").encode()):
        return Principal(username="bot", role="service")
    principal = principal_for_token(session, token=token)
    if principal is None:
        raise _unauthorized("登录已失效，请重新登录。")
    return principal


def require_roles(
    *roles: str, password_pending_ok: bool = False
) -> Callable[[Principal], Principal]:
    """The caller has one of ``roles``; a user who must still change the printed first
    password may only do that (``password_pending_ok`` marks the routes that allow it)."""

    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail={"code": "forbidden", "message": "您没有执行此操作的权限。"},
            )
        if principal.must_change_password and not password_pending_ok:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail={
                    "code": "password_change_required",
                    "message": "请先修改初始密码，再继续使用控制台。",
                },
            )
        return principal

    return check


ServiceDep = Annotated[Principal, Depends(require_roles("service"))]
StaffDep = Annotated[Principal, Depends(require_roles("staff", "admin"))]
DeskReadDep = Annotated[Principal, Depends(require_roles("service", "staff", "admin"))]
AdminDep = Annotated[Principal, Depends(require_roles("admin"))]
AnyUserDep = Annotated[Principal, Depends(get_principal)]
