"""Login, logout, who am I, and user administration."""

from typing import Annotated

from fastapi import APIRouter, Depends, status

from desk.deps import AdminDep, AnyUserDep, SessionDep, bearer_token
from desk.users import service
from desk.users.models import User
from desk.users.schemas import LoginIn, LoginOut, UserCreate, UserPublic

router = APIRouter(prefix="/api", tags=["users"])


@router.post("/auth/login", response_model=LoginOut)
def login(body: LoginIn, session: SessionDep) -> LoginOut:
    token, expires_at, user = service.login(session, username=body.username, password=body.password)
    return LoginOut(
        token=token,
        expires_at=expires_at,
        role=user.role,  # type: ignore[arg-type]
        username=user.username,
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(session: SessionDep, token: Annotated[str, Depends(bearer_token)]) -> None:
    service.logout(session, token=token)


@router.get("/auth/me")
def me(principal: AnyUserDep) -> dict[str, str]:
    return {"username": principal.username, "role": principal.role}


@router.post("/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, session: SessionDep, _admin: AdminDep) -> User:
    return service.create_user(session, data=body)
