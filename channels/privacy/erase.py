"""Erasing personal data from a conversation's transcript rows and from its events in Rasa's SQL
tracker store (the ``events`` table Rasa 3.6 writes: one JSON event per row).

What goes: every mobile, ID card number and credit code the detectors find
(:func:`knowledge.masking.redact_text`), each value the records hold for the contact (its name,
its mobile) wherever it appears, the values of the bot's contact slots, and the whole text of a
user message that answered a question for a contact slot (the message *is* the datum).

The tracker store caches the last tracker per conversation and trusts it while ``max(id)`` of
the conversation's events is unchanged (bot/server/tracker_store.py). So events are never
edited in place: from the first changed event on, the conversation's rows are deleted and
written again in the same order, which gives them new ids; every Rasa server's cache then
misses and loads the erased tracker from SQL (SQLite would hand the deleted ids out again, so
there the new ids are given, above the table's highest). The rewrite holds the table's write
lock (SQLite: the database's; PostgreSQL: ``LOCK TABLE … SHARE ROW EXCLUSIVE``) so no event
saved meanwhile is lost or put out of order.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from channels.models import InboundMessage, OutboxMessage
from channels.transcript import ChatMessage
from desk.db import get_engine
from knowledge.masking import ERASED, redact_text

#: the bot's slots that hold a contact's details (bot/domain: need, complaint, registration)
CONTACT_SLOTS = frozenset(
    {
        "contact_name",
        "contact_mobile",
        "complaint_contact_name",
        "complaint_contact_mobile",
        "reg_contact_name",
        "reg_mobile",
        "need_credit_code",
        "reg_credit_code",
    }
)
#: the answers to the privacy notice; a withdrawal resets them so the bot asks again
CONSENT_SLOTS = frozenset({"privacy_consent", "complaint_consent"})
#: entities the NLU extracts for contact slots
CONTACT_ENTITIES = frozenset({"contact_name", "person", "mobile", "phone", "credit_code"})

WECHAT_PREFIX = "wx:"
TRACKER_FILE = "rasa_tracker.db"  # beside the desk's SQLite file (app/stack.py)

_metadata = sa.MetaData()
EVENTS = sa.Table(
    "events",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)


def tracker_url(database_url: str) -> str:
    """Where Rasa's tracker store lives for this desk database: a SQLite file beside it, or the
    same PostgreSQL database (app/stack.py configures Rasa the same way)."""
    if database_url.startswith("sqlite"):
        desk_db = Path(database_url.split("///", 1)[-1])
        return f"sqlite:///{desk_db.with_name(TRACKER_FILE)}"
    return database_url


@lru_cache
def _engine(url: str) -> Engine:
    return get_engine(url)


def tracker_engine(database_url: str) -> Engine:
    return _engine(tracker_url(database_url))


def tracker_engine_of(session: Session) -> Engine:
    """The tracker store's engine for the database ``session`` works on."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine.url.get_backend_name() == "sqlite":
        return tracker_engine(engine.url.render_as_string(hide_password=False))
    return engine


def has_events(engine: Engine) -> bool:
    return sa.inspect(engine).has_table("events")


# --- values -------------------------------------------------------------------------------------


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def contact_values(events: Iterable[dict[str, Any]]) -> set[str]:
    """The contact details a conversation's events hold: contact slots and contact entities."""
    values: set[str] = set()
    for event in events:
        if event.get("event") == "slot" and event.get("name") in CONTACT_SLOTS:
            values.update(_strings(event.get("value")))
        if event.get("event") == "user":
            for entity in (event.get("parse_data") or {}).get("entities") or []:
                if isinstance(entity, dict) and entity.get("entity") in CONTACT_ENTITIES:
                    values.update(_strings(entity.get("value")))
    return {v for v in values if v and v != ERASED}


def redact(value: Any, known: set[str]) -> Any:
    if isinstance(value, str):
        return redact_text(value, known=known)
    if isinstance(value, list):
        return [redact(v, known) for v in value]
    if isinstance(value, dict):
        return {k: redact(v, known) for k, v in value.items()}
    return value


# --- transcripts ----------------------------------------------------------------------------


def erase_transcript(
    session: Session,
    *,
    conversation_id: str,
    known: set[str],
    since: datetime | None = None,
    before: datetime | None = None,
) -> int:
    """Erase personal data from the conversation's rows (created in ``[since, before)`` when
    given): its transcript lines, the user messages kept for the bot with their replies
    (``chat_inbound``) and, on WeChat, the texts of its customer-service messages
    (``wechat_outbox``); returns the number of rows changed. Never commits."""

    def window(query: Any, column: Any) -> Any:
        if since is not None:
            query = query.where(column >= since)
        if before is not None:
            query = query.where(column < before)
        return query

    changed = 0
    lines = sa.select(ChatMessage).where(ChatMessage.conversation_id == conversation_id)
    for row in session.scalars(window(lines, ChatMessage.created_at).order_by(ChatMessage.id)):
        text = redact_text(row.text, known=known)
        payload = redact(row.payload or {}, known)
        if text != row.text or payload != (row.payload or {}):
            row.text, row.payload = text, payload
            changed += 1
    kept = sa.select(InboundMessage).where(InboundMessage.conversation_id == conversation_id)
    for message in session.scalars(window(kept, InboundMessage.created_at)):
        bot_text = redact_text(message.bot_text, known=known) if message.bot_text else None
        replies = redact(message.replies or [], known)
        if bot_text != message.bot_text or replies != (message.replies or []):
            message.bot_text, message.replies = bot_text, replies
            changed += 1
    if conversation_id.startswith(WECHAT_PREFIX):
        openid = conversation_id.removeprefix(WECHAT_PREFIX)
        sent = sa.select(OutboxMessage).where(OutboxMessage.openid == openid)
        for out in session.scalars(window(sent, OutboxMessage.created_at)):
            content = redact_text(out.content, known=known)
            if content != out.content:
                out.content = content
                changed += 1
    return changed


# --- tracker events -------------------------------------------------------------------------


def load_events(engine: Engine, sender_id: str) -> list[dict[str, Any]]:
    if not has_events(engine):
        return []
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(EVENTS.c.data).where(EVENTS.c.sender_id == sender_id).order_by(EVENTS.c.id)
        )
        return [json.loads(data) for (data,) in rows if data]


def erase_event(
    event: dict[str, Any], known: set[str], *, requested: str | None, consent: bool
) -> dict[str, Any]:
    """One event without personal data; ``requested`` is the slot the bot was asking for."""
    event = redact(event, known)
    kind = event.get("event")
    if kind == "slot" and event.get("value") is not None:
        if event.get("name") in CONTACT_SLOTS or (consent and event.get("name") in CONSENT_SLOTS):
            event["value"] = None
    elif kind == "user" and requested in CONTACT_SLOTS and event.get("text"):
        event["text"] = ERASED  # the answer to a contact question is the datum itself
        parse_data = event.get("parse_data")
        if isinstance(parse_data, dict):
            parse_data["text"] = ERASED
            parse_data["entities"] = []
    return event


@dataclass(frozen=True)
class TrackerErasure:
    events: int  # events changed
    rewritten: int  # rows written again (from the first changed one on)


def erase_tracker(
    engine: Engine,
    *,
    sender_id: str,
    known: set[str],
    consent: bool = False,
    since: float | None = None,
    before: float | None = None,
) -> TrackerErasure:
    """Erase personal data from one conversation's tracker events (those with a timestamp in
    ``[since, before)`` when given); ``consent`` also resets the answers to the privacy notice.
    Commits its own transaction; erasing twice changes nothing."""
    if not has_events(engine):
        return TrackerErasure(0, 0)
    with engine.begin() as connection:
        _lock(connection, sender_id)
        rows = list(
            connection.execute(
                sa.select(EVENTS).where(EVENTS.c.sender_id == sender_id).order_by(EVENTS.c.id)
            ).mappings()
        )
        events = [json.loads(r["data"]) if r["data"] else {} for r in rows]
        known = known | contact_values(events)
        requested: str | None = None
        first: int | None = None
        changed = 0
        new_data: list[str | None] = []
        for index, (row, event) in enumerate(zip(rows, events, strict=True)):
            stamp = row["timestamp"]
            inside = (since is None or (stamp is not None and stamp >= since)) and (
                before is None or (stamp is not None and stamp < before)
            )
            erased = (
                erase_event(event, known, requested=requested, consent=consent) if inside else event
            )
            if event.get("event") == "slot" and event.get("name") == "requested_slot":
                requested = event.get("value") if isinstance(event.get("value"), str) else None
            if erased != event:
                changed += 1
                first = index if first is None else first
                new_data.append(json.dumps(erased, ensure_ascii=False))
            else:
                new_data.append(row["data"])
        if first is None:
            return TrackerErasure(0, 0)
        tail = rows[first:]
        # new ids, above every id in use: PostgreSQL's sequence gives them; SQLite would hand
        # the deleted ids out again (max + 1), so there they are given here
        top = 0
        if connection.dialect.name == "sqlite":
            top = int(connection.execute(sa.select(sa.func.max(EVENTS.c.id))).scalar() or 0)
        connection.execute(
            sa.delete(EVENTS).where(EVENTS.c.sender_id == sender_id, EVENTS.c.id >= tail[0]["id"])
        )
        connection.execute(
            sa.insert(EVENTS),
            [
                {
                    **({"id": top + offset} if top else {}),
                    "sender_id": sender_id,
                    "type_name": row["type_name"],
                    "timestamp": row["timestamp"],
                    "intent_name": row["intent_name"],
                    "action_name": row["action_name"],
                    "data": data,
                }
                for offset, (row, data) in enumerate(
                    zip(tail, new_data[first:], strict=True), start=1
                )
            ],
        )
        return TrackerErasure(changed, len(tail))


def _lock(connection: sa.Connection, sender_id: str) -> None:
    """Hold the events table's write lock for the rest of the transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE"))
    else:  # SQLite: a write takes the database's lock before anything is read
        connection.execute(
            sa.update(EVENTS)
            .where(EVENTS.c.sender_id == sender_id)
            .values(sender_id=EVENTS.c.sender_id)
        )


def senders_between(engine: Engine, *, since: float | None, before: float) -> list[str]:
    """Conversations with tracker events in ``[since, before)``."""
    if not has_events(engine):
        return []
    query = sa.select(EVENTS.c.sender_id).where(EVENTS.c.timestamp < before).distinct()
    if since is not None:
        query = query.where(EVENTS.c.timestamp >= since)
    with engine.connect() as connection:
        return sorted(s for (s,) in connection.execute(query))
