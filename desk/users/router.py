"""Login, logout, who am I, password change, user administration, experts and their presence."""

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from desk.clock import now
from desk.deps import AdminDep, AnyUserDep, SessionDep, bearer_token, require_roles
from desk.users import accounts, experts, lockout, service
from desk.users.models import User
from desk.users.schemas import (
    DomainsIn,
    ExpertList,
    ExpertPublic,
    LoginIn,
    LoginOut,
    PasswordChange,
    PresenceIn,
    Profile,
)
from desk.users.service import Principal
from knowledge.constants import DOMAIN_LABELS

router = APIRouter(prefix="/api", tags=["users"])

ConsoleUserDep = Annotated[Principal, Depends(require_roles("expert", "staff", "admin"))]
# the profile and the password change stay open to a user who must change the first password
PendingPasswordDep = Annotated[
    Principal, Depends(require_roles("expert", "staff", "admin", password_pending_ok=True))
]
ExpertDep = Annotated[Principal, Depends(require_roles("expert"))]


@router.post(
    "/auth/login",
    response_model=LoginOut,
    responses={
        401: {"description": "用户名或密码错误"},
        403: {"description": "账户已停用"},
        429: {"description": "失败次数过多，暂时锁定（Retry-After 秒后再试）"},
    },
)
def login(body: LoginIn, session: SessionDep) -> LoginOut:
    try:
        token, expires_at, user = service.login(
            session, username=body.username, password=body.password
        )
    except lockout.LoginLocked as locked:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail={"code": locked.code, "message": locked.message},
            headers={"Retry-After": str(locked.retry_after_s)},
        ) from None
    return LoginOut(
        token=token,
        expires_at=expires_at,
        role=user.role,  # type: ignore[arg-type]
        username=user.username,
        display_name=user.display_name,
        must_change_password=user.must_change_password,
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(session: SessionDep, token: Annotated[str, Depends(bearer_token)]) -> None:
    """Ends this login (its token answers 401 from now on); an unknown token is no error."""
    service.logout(session, token=token)


@router.get("/auth/me")
def me(principal: AnyUserDep) -> dict[str, str]:
    return {"username": principal.username, "role": principal.role}


@router.get("/auth/profile", response_model=Profile)
def profile(principal: PendingPasswordDep, session: SessionDep) -> Profile:
    user = service.get_user(session, username=principal.username)
    return Profile(
        username=user.username,
        display_name=user.display_name,
        role=user.role,  # type: ignore[arg-type]
        must_change_password=user.must_change_password,
        domains=user.domains or [],
        presence=user.presence,
    )


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(
    body: PasswordChange,
    principal: PendingPasswordDep,
    session: SessionDep,
    token: Annotated[str, Depends(bearer_token)],
) -> None:
    assert principal.user_id is not None
    service.change_password(
        session,
        user_id=principal.user_id,
        current=body.current_password,
        new=body.new_password,
        keep_token_hash=service.token_hash(token),
    )


def _expert_public(user: User, active: Counter[str]) -> ExpertPublic:
    domains = user.domains or []
    return ExpertPublic(
        username=user.username,
        display_name=user.display_name,
        domains=domains,
        domain_labels=[DOMAIN_LABELS[d] for d in domains if d in DOMAIN_LABELS],
        presence=user.presence,
        presence_label=experts.PRESENCE_LABELS.get(user.presence, user.presence),
        active_consultations=active[user.username],
    )


def _active_counts(session: SessionDep) -> Counter[str]:
    return accounts.active_consultations(session)


@router.get("/experts", response_model=ExpertList)
def list_experts(session: SessionDep, _: ConsoleUserDep) -> ExpertList:
    active = _active_counts(session)
    return ExpertList(items=[_expert_public(u, active) for u in experts.experts(session)])


@router.put("/experts/me/presence", response_model=ExpertPublic)
def set_presence(body: PresenceIn, session: SessionDep, expert: ExpertDep) -> ExpertPublic:
    user = experts.set_presence(
        session, username=expert.username, presence=body.presence, moment=now()
    )
    return _expert_public(user, _active_counts(session))


@router.put("/experts/{username}/domains", response_model=ExpertPublic)
def set_domains(username: str, body: DomainsIn, session: SessionDep, _: AdminDep) -> ExpertPublic:
    user = experts.set_domains(session, username=username, domains=body.domains)
    return _expert_public(user, _active_counts(session))
