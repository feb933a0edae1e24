"""The console's live stream (SSE): escalations, transcript lines, deliveries and presence.

``EventSource`` cannot send an Authorization header, so the console first asks for a ticket: a
signed, 60-second reference to its login. The stream re-reads the database on each wake-up (Redis
carries them across processes) and at least every poll interval, so nothing is lost; every event
carries a cursor (``id:``) and a reconnecting browser resumes after ``Last-Event-ID``.
"""

import asyncio
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from desk.clock import CHINA
from desk.consultations.ports import ConversationPort, get_conversation_port
from desk.db import get_sessionmaker
from desk.deps import SettingsDep, bearer_token, require_roles
from desk.errors import DeskError
from desk.escalations.models import ACTIVE_STATUSES, Escalation
from desk.live import events
from desk.live.notifier import ANY, Notifier
from desk.provided import from_app
from desk.users.service import Principal, display_names, principal_for_token_hash, token_hash

router = APIRouter(prefix="/api/console", tags=["console"])

TICKET_TTL_S = 60
POLL_S = 2.0
HEARTBEAT_S = 15.0
# what a console receives only of the conversations it watches (the transcript is read the same)
PRIVATE_KINDS = frozenset({"message", "delivery"})
ConsoleDep = Annotated[Principal, Depends(require_roles("expert", "staff", "admin"))]
PortDep = Annotated[ConversationPort, Depends(from_app(get_conversation_port))]


class TicketRefused(DeskError):
    code = "ticket_refused"
    status = 401


class Ticket(BaseModel):
    ticket: str
    expires_at: datetime
    expires_in_s: int


class _SpentTickets:
    """Tickets already used to open a stream (one use each), forgotten once expired.

    Kept in this process: a ticket replayed against another app process is refused only by its
    60-second expiry (a shared table would close that gap)."""

    def __init__(self) -> None:
        self._spent: dict[str, int] = {}
        self._lock = threading.Lock()

    def spend(self, signature: str, expires: int) -> bool:
        """True the first time a ticket is spent."""
        with self._lock:
            moment = time.time()
            self._spent = {s: e for s, e in self._spent.items() if e >= moment}
            if signature in self._spent:
                return False
            self._spent[signature] = expires
            return True


_SPENT = _SpentTickets()


_LOCAL = Notifier()


def get_notifier() -> Notifier:
    """Overridden by the app with its running notifier (this one wakes nothing: streams poll)."""
    return _LOCAL


def _sign(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()[:32]


@router.post("/stream-ticket", response_model=Ticket)
def stream_ticket(
    settings: SettingsDep, _: ConsoleDep, token: Annotated[str, Depends(bearer_token)]
) -> Ticket:
    expires = int(time.time()) + TICKET_TTL_S
    # the nonce makes each ticket its own, so that spending one leaves the next one valid
    message = f"{expires}.{secrets.token_hex(8)}.{token_hash(token)}"
    return Ticket(
        ticket=f"{message}.{_sign(settings.secret('service_token'), message)}",
        expires_at=datetime.fromtimestamp(expires, CHINA),
        expires_in_s=TICKET_TTL_S,
    )


def _principal_for_ticket(session: Session, *, ticket: str, key: str) -> Principal:
    parts = ticket.split(".")
    if len(parts) != 4:
        raise TicketRefused("实时连接凭证无效，请刷新页面。")
    expires, nonce, hashed, signature = parts
    expected = _sign(key, f"{expires}.{nonce}.{hashed}")
    if not (expires.isdigit() and hmac.compare_digest(signature.encode(), expected.encode())):
        raise TicketRefused("实时连接凭证无效，请刷新页面。")
    if int(expires) < time.time():
        raise TicketRefused("实时连接凭证已过期，请重新连接。")
    principal = principal_for_token_hash(session, token_hash=hashed)
    if principal is None or principal.role not in ("expert", "staff", "admin"):
        raise TicketRefused("登录已失效，请重新登录。")
    if not _SPENT.spend(signature, int(expires)):
        raise TicketRefused("实时连接凭证已使用过，请重新连接。")
    return principal


def _watched(session: Session, principal: Principal) -> list[str]:
    """Conversations whose lines this console receives: waiting ones, and the caller's own
    (staff and admins: every active one)."""
    query = select(Escalation).where(Escalation.status.in_(ACTIVE_STATUSES))
    rows = list(session.scalars(query))
    if principal.role in ("staff", "admin"):
        return [e.conversation_id for e in rows]
    return [
        e.conversation_id for e in rows if e.status == "waiting" or e.expert == principal.username
    ]


def _escalation_ids(session: Session, conversation_ids: list[str]) -> dict[str, int]:
    query = select(Escalation.conversation_id, Escalation.id).where(
        Escalation.conversation_id.in_(conversation_ids), Escalation.status.in_(ACTIVE_STATUSES)
    )
    return {str(cid): int(eid) for cid, eid in session.execute(query)}


def _parse_cursor(value: str | None) -> tuple[int, int] | None:
    """``e<console event id>m<transcript line id>``."""
    if not value or not value.startswith("e") or "m" not in value:
        return None
    left, _, right = value[1:].partition("m")
    return (int(left), int(right)) if left.isdigit() and right.isdigit() else None


@router.get("/stream", response_class=StreamingResponse)
async def stream(
    request: Request,
    settings: SettingsDep,
    port: PortDep,
    notifier: Annotated[Notifier, Depends(from_app(get_notifier))],
    ticket: Annotated[str, Query(max_length=300)],
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    assert settings.database_url is not None
    sessions = get_sessionmaker(settings.database_url)
    key = settings.secret("service_token")

    def start() -> tuple[Principal, int, int]:
        with sessions() as session:
            principal = _principal_for_ticket(session, ticket=ticket, key=key)
            return principal, events.last_id(session), port.last_line_id(session)

    principal, first_event, first_line = await run_in_threadpool(start)
    login = ticket.split(".")[2]  # the login the ticket names (checked by start)
    resumed = _parse_cursor(last_event_id)
    cursor = resumed or (first_event, first_line)

    def read(after_event: int, after_line: int) -> list[tuple[str, dict[str, Any]]] | None:
        """What happened since the cursor; None once the login has ended (logout, password
        reset, a deactivated account): the stream closes."""
        out: list[tuple[str, dict[str, Any]]] = []
        with sessions() as session:
            if principal_for_token_hash(session, token_hash=login) is None:
                return None
            watched = _watched(session, principal)
            for row in events.since(session, after_id=after_event):
                if row.kind in PRIVATE_KINDS and row.conversation_id not in watched:
                    # another expert's consultation: only the cursor moves on
                    out.append(("", {"_event": row.id}))
                    continue
                out.append((row.kind, {"_event": row.id, **row.data}))
            lines = port.lines_since(session, after_id=after_line, conversation_ids=watched)
            ids = _escalation_ids(session, [cid for cid, _ in lines])
            names = display_names(session) if lines else {}
            for cid, line in lines:
                if line.author and not line.author_name:
                    line.author_name = names.get(line.author, line.author)
                item = {"conversation_id": cid, "escalation_id": ids.get(cid)}
                out.append(
                    ("message", {"_line": line.id, **item, "message": line.model_dump(mode="json")})
                )
        return out

    async def body() -> AsyncIterator[str]:
        after_event, after_line = cursor
        yield "retry: 3000\n\n"
        with notifier.subscription(ANY) as wake:
            quiet = 0.0
            while not await request.is_disconnected():
                wake.clear()
                found = await run_in_threadpool(read, after_event, after_line)
                if found is None:
                    # the browser reconnects with the spent ticket, is refused, asks for a new
                    # one and gets 401: the console goes to its login page
                    yield 'event: session_ended\ndata: {"code": "unauthorized"}\n\n'
                    return
                for kind, data in found:
                    after_event = data.pop("_event", after_event)
                    after_line = data.pop("_line", after_line)
                    if not kind:
                        continue
                    quiet = 0.0
                    payload = json.dumps(data, ensure_ascii=False)
                    yield f"id: e{after_event}m{after_line}\nevent: {kind}\ndata: {payload}\n\n"
                try:
                    await asyncio.wait_for(wake.wait(), timeout=POLL_S)
                except TimeoutError:
                    quiet += POLL_S
                if quiet >= HEARTBEAT_S:
                    quiet = 0.0
                    yield ": ping\n\n"

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
