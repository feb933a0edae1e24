"""Generated desk data for the dashboard's tests, with the right answers computed here, apart
from the desk's code: an own working-day calendar of autumn 2025 (National Day 1–8 October,
Sunday 28 September and Saturday 11 October worked)."""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.settings import AppSettings
from desk.clock import CHINA
from desk.complaints.models import Complaint
from desk.db import get_sessionmaker
from desk.demands.models import Demand, Evaluation

HOLIDAY = {date(2025, 10, d) for d in range(1, 9)}
WORKED_WEEKEND = {date(2025, 9, 28), date(2025, 10, 11)}
INSTITUTION = "inst-chengheng-metrology"  # metrology, 江阴市澄江街道
PLACES = {  # as said → the region the dashboard must put it in
    "江阴市周庄镇华西路": "江阴市周庄镇",
    "无锡新吴区科技园": "无锡市新吴区",
    "周庄": "江阴市周庄镇",
    "上海浦东": "unknown",
}
SERVICES = (["6.1.2"], ["6.4.2"], ["6.2.1"], ["6.4.1", "6.1.2"], [])


def working(day: date) -> bool:
    return day in WORKED_WEEKEND or (day.weekday() < 5 and day not in HOLIDAY)


def add_working(day: date, n: int) -> date:
    while n:
        day += timedelta(days=1)
        n -= working(day)
    return day


def china(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=CHINA)


def utc_of(day: date, hour: int) -> datetime:
    return china(day, hour).astimezone(UTC)


@dataclass
class GenDemand:
    number: str
    submitted: date
    services: list[str]
    region: str
    status: str
    responded: date | None
    recommended: date | None
    chosen: str | None
    scores: tuple[int, int, int, int] | None = None
    evaluated: date | None = None


@dataclass
class GenComplaint:
    number: str
    received: date
    resolved: date | None
    institution: str | None


@dataclass
class Generated:
    demands: list[GenDemand] = field(default_factory=list)
    complaints: list[GenComplaint] = field(default_factory=list)


@contextmanager
def desk_today(monkeypatch: pytest.MonkeyPatch, day: date) -> Iterator[None]:
    """The desk's routers believe it is ``day`` (due dates are computed from it)."""
    import desk.complaints.router
    import desk.demands.router

    with monkeypatch.context() as patch:
        patch.setattr(desk.demands.router, "today", lambda: day)
        patch.setattr(desk.complaints.router, "today", lambda: day)
        yield


def generate(
    client: TestClient,
    *,
    bot: dict[str, str],
    staff: dict[str, str],
    settings: AppSettings,
    monkeypatch: pytest.MonkeyPatch,
    seed: int = 1063,
    demands: int = 36,
    complaints: int = 10,
) -> Generated:
    rng = random.Random(seed)
    assert settings.database_url
    sessions = get_sessionmaker(settings.database_url)
    made = Generated()
    days = [date(2025, 9, 15) + timedelta(days=i) for i in range(36)]  # 15 Sep – 20 Oct
    for i in range(demands):
        submitted = rng.choice(days)
        place = rng.choice(list(PLACES))
        services = rng.choice(SERVICES)
        with desk_today(monkeypatch, submitted):
            response = client.post(
                "/api/demands",
                headers=bot,
                json={
                    "conversation_id": f"web:dash-{i:03d}",
                    "need_text": "检测需求",
                    "product": "电线电缆",
                    "place": place,
                    "contact_name": "张伟",
                    "contact_mobile": "13912345678",
                    "service_ids": services,
                },
            )
        assert response.status_code == 201, response.text
        body = response.json()
        # the desk's due dates are the independent calendar's
        assert date.fromisoformat(body["respond_due"]) == add_working(submitted, 1)
        assert date.fromisoformat(body["recommend_due"]) == add_working(submitted, 3)
        fate = rng.random()
        status, responded, recommended, chosen = "submitted", None, None, None
        if fate < 0.12:
            status = "cancelled"
        elif fate > 0.25:
            responded = submitted + timedelta(days=rng.randint(0, 4))
            status = "responded"
            if rng.random() < 0.8:
                recommended = responded + timedelta(days=rng.randint(0, 5))
                status, chosen = "matched", rng.choice([INSTITUTION, None])
        made.demands.append(
            GenDemand(
                body["number"],
                submitted,
                list(services),
                PLACES[place],
                status,
                responded,
                recommended,
                chosen,
            )
        )
    for d in made.demands:
        if d.recommended and rng.random() < 0.7:
            d.scores = (rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 5))
            d.evaluated = d.recommended + timedelta(days=rng.randint(1, 10))
    for i in range(complaints):
        received = rng.choice(days)
        with desk_today(monkeypatch, received):
            response = client.post(
                "/api/complaints",
                headers=staff,
                json={
                    "channel": "电话",
                    "institution_name": "澄衡计量" if i % 2 else "某检测公司",
                    "complaint_type": "收费",
                    "content": "收费与报价不一致",
                    "contact_mobile": "13912345678",
                    "received_on": received.isoformat(),
                },
            )
        assert response.status_code == 201, response.text
        body = response.json()
        assert date.fromisoformat(body["investigation_due"]) == add_working(received, 7)
        resolved = received + timedelta(days=rng.randint(3, 16)) if rng.random() < 0.8 else None
        made.complaints.append(
            GenComplaint(body["number"], received, resolved, INSTITUTION if i % 2 else None)
        )
    with sessions() as session:
        for d in made.demands:
            values: dict[str, Any] = {
                "created_at": utc_of(d.submitted, 10),
                "status": d.status,
                "responded_at": china(d.responded, 15) if d.responded else None,
                "recommended_at": china(d.recommended, 16) if d.recommended else None,
                "chosen_institution_id": d.chosen,
            }
            session.execute(update(Demand).where(Demand.number == d.number).values(**values))
            if d.scores and d.evaluated:
                demand_id = session.scalar(select(Demand.id).where(Demand.number == d.number))
                session.add(
                    Evaluation(
                        demand_id=demand_id,
                        process_score=d.scores[0],
                        efficiency_score=d.scores[1],
                        attitude_score=d.scores[2],
                        overall_score=d.scores[3],
                        created_at=utc_of(d.evaluated, 11),
                    )
                )
        for c in made.complaints:
            session.execute(
                update(Complaint)
                .where(Complaint.number == c.number)
                .values(
                    institution_id=c.institution,
                    institution_title=None,
                    resolved_at=china(c.resolved, 17) if c.resolved else None,
                    status="resolved" if c.resolved else "investigating",
                )
            )
        session.commit()
    return made
