"""Experts: their QI domains (routing) and presence (online / away), keyword-only, no HTTP."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.errors import InvalidInput
from desk.live import events
from desk.users.models import User
from desk.users.service import get_user
from knowledge.constants import DOMAIN_LABELS

PRESENCE_LABELS = {"online": "在线", "away": "离开"}


def experts(session: Session, *, active_only: bool = True) -> list[User]:
    query = select(User).where(User.role == "expert").order_by(User.display_name, User.id)
    if active_only:
        query = query.where(User.active.is_(True))
    return list(session.scalars(query))


def online_experts(session: Session, *, domain: str | None = None) -> list[User]:
    """Online experts, of the domain when one is given."""
    found = [u for u in experts(session) if u.presence == "online"]
    if domain is not None:
        found = [u for u in found if domain in (u.domains or [])]
    return found


def set_presence(session: Session, *, username: str, presence: str, moment: datetime) -> User:
    if presence not in PRESENCE_LABELS:
        raise InvalidInput("状态只能是在线或离开。", code="invalid_presence")
    user = get_user(session, username=username)
    user.presence, user.presence_at = presence, moment
    events.publish(session, kind="presence", data={"username": username, "presence": presence})
    session.commit()
    return user


def set_domains(session: Session, *, username: str, domains: list[str]) -> User:
    unknown = [d for d in domains if d not in DOMAIN_LABELS]
    if unknown:
        raise InvalidInput(f"未知的领域：{'、'.join(unknown)}。", code="invalid_domain")
    user = get_user(session, username=username)
    if user.role != "expert":
        raise InvalidInput(f"{user.display_name} 不是专家，不能设置服务领域。", code="not_expert")
    user.domains = list(dict.fromkeys(domains))  # in the given order, once each
    session.commit()
    return user
