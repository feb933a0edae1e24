"""Canned replies: shared ones kept by staff, personal ones each expert keeps; no HTTP here."""

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from desk import audit
from desk.canned.models import CannedReply
from desk.canned.schemas import CannedReplyCreate
from desk.errors import DeskError, InvalidInput, NotFound
from desk.users.service import Principal

SUPERVISORS = ("staff", "admin")


class NotAllowed(DeskError):
    code = "forbidden"
    status = 403


def visible(
    session: Session, *, caller: Principal, query: str = "", limit: int = 50
) -> list[CannedReply]:
    """Shared replies and the caller's own; ``query`` matches shortcut, title or text."""
    stmt = select(CannedReply).where(
        or_(
            CannedReply.scope == "shared",
            (CannedReply.scope == "personal") & (CannedReply.owner == caller.username),
        )
    )
    if query:
        # the words as typed: % and _ are letters here, not LIKE's wildcards
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(
            or_(
                CannedReply.shortcut.ilike(pattern, escape="\\"),
                CannedReply.title.ilike(pattern, escape="\\"),
                CannedReply.text.ilike(pattern, escape="\\"),
            )
        )
    # shortcuts that start with the query first, then the caller's own, then alphabetical
    rows = list(session.scalars(stmt.order_by(CannedReply.shortcut).limit(500)))
    rows.sort(
        key=lambda r: (
            not r.shortcut.lower().startswith(query.lower()),
            r.scope != "personal",
            r.shortcut,
        )
    )
    return rows[:limit]


def create(session: Session, *, data: CannedReplyCreate, caller: Principal) -> CannedReply:
    if data.scope == "shared" and caller.role not in SUPERVISORS:
        raise NotAllowed("只有工作人员可以添加共享快捷回复，您可以添加个人快捷回复。")
    owner = caller.username if data.scope == "personal" else None
    clash = session.scalar(
        select(CannedReply).where(
            CannedReply.shortcut == data.shortcut,
            CannedReply.scope == data.scope,
            CannedReply.owner.is_(None) if owner is None else CannedReply.owner == owner,
        )
    )
    if clash is not None:
        raise InvalidInput(f"快捷词 /{data.shortcut} 已存在。", code="shortcut_taken")
    reply = CannedReply(
        shortcut=data.shortcut, title=data.title, text=data.text, scope=data.scope, owner=owner
    )
    session.add(reply)
    session.flush()
    audit.record(
        session,
        actor=caller.username,
        action="canned.create",
        subject=f"canned:{reply.id}",
        details={"scope": data.scope, "shortcut": data.shortcut},
    )
    session.commit()
    return reply


def delete(session: Session, *, reply_id: int, caller: Principal) -> None:
    reply = session.get(CannedReply, reply_id)
    if reply is None:
        raise NotFound("未找到该快捷回复。")
    mine = reply.scope == "personal" and reply.owner == caller.username
    if not mine and not (reply.scope == "shared" and caller.role in SUPERVISORS):
        raise NotAllowed("您不能删除这条快捷回复。")
    audit.record(
        session,
        actor=caller.username,
        action="canned.delete",
        subject=f"canned:{reply.id}",
        details={"scope": reply.scope, "shortcut": reply.shortcut},
    )
    session.delete(reply)
    session.commit()
