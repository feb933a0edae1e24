"""FastAPI dependencies shared by the routers."""

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, status
from sqlalchemy.orm import Session

from desk.db import get_sessionmaker
from desk.settings import AppSettings, get_settings

SettingsDep = Annotated[AppSettings, Depends(get_settings)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    assert settings.database_url is not None
    with get_sessionmaker(settings.database_url)() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def require_service(
    settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> str:
    """The bot (and other internal callers) authenticate with the service token."""
    scheme, _, token = (authorization or "").partition(" ")
    expected = settings.secret("service_token")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail={"code": "unauthorized", "message": "需要有效的访问令牌。"},
            headers={"WWW-Authenticate": "Bearer"},
        )
    return "service"


ServiceDep = Annotated[str, Depends(require_service)]
