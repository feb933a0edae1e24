"""Helpers of the handoff tests: escalations, experts and transcript lines at fixed moments."""

from datetime import UTC, datetime
from typing import Any

import httpx

from channels.transcript import ChatMessage
from desk.clock import CHINA
from desk.escalations.models import Escalation, EscalationEvent
from desk.escalations.schemas import EscalationCreate
from desk.escalations.service import claim, create_escalation
from desk.escalations.settings import ConsultationSettings
from desk.users.models import User
from tests.channels.conftest import Live

# a Monday on duty; a Sunday; the National Day holiday (back on Thursday 9 October)
MONDAY = datetime(2025, 6, 16, 10, 0, tzinfo=CHINA)
SUNDAY = datetime(2025, 6, 15, 10, 0, tzinfo=CHINA)
NATIONAL_DAY = datetime(2025, 10, 1, 10, 0, tzinfo=CHINA)
# the app's own sweep waits an hour: the tests sweep at fixed moments themselves
QUIET = {"consultation": ConsultationSettings(sweep_interval_s=3600)}


def escalate(
    live: Live, cid: str, *, moment: datetime, domain: str | None = None, channel: str = "web"
) -> int:
    with live.session() as session:
        escalation, _ = create_escalation(
            session,
            data=EscalationCreate(
                conversation_id=cid, summary="需要专家", domain=domain, channel=channel
            ),
            actor="bot",
            moment=moment,
        )
        return escalation.id


def expert(live: Live, username: str, *, domains: list[str], online: bool = True) -> None:
    with live.session() as session:
        session.add(
            User(
                username=username,
                display_name=username,
                role="expert",
                password_hash="-",
                domains=domains,
                presence="online" if online else "away",
            )
        )
        session.commit()


def take(live: Live, escalation_id: int, *, by: str, moment: datetime) -> None:
    with live.session() as session:
        claim(session, escalation_id=escalation_id, actor=by, moment=moment)


def line(
    live: Live,
    cid: str,
    *,
    sender: str,
    text: str,
    at: datetime,
    payload: dict[str, object] | None = None,
) -> None:
    with live.session() as session:
        session.add(
            ChatMessage(
                conversation_id=cid,
                channel="web",
                sender=sender,
                text=text,
                payload=payload or {},
                created_at=at.astimezone(UTC),
            )
        )
        session.commit()


def escalation(live: Live, escalation_id: int) -> Escalation:
    [row] = live.rows(Escalation, id=escalation_id)
    return row


def steps(live: Live, escalation_id: int) -> list[str]:
    return [e.note for e in live.rows(EscalationEvent, escalation_id=escalation_id)]


def say(live: Live, cid: str, text: str) -> list[str]:
    response = httpx.post(
        f"{live.url}/api/chat/messages", json={"conversation_id": cid, "text": text}, timeout=10
    )
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return [m["text"] for m in messages]


def system_lines(live: Live, cid: str) -> list[str]:
    return [text for sender, text in live.transcript(cid) if sender == "system"]
