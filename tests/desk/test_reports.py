"""Service-level reports (§7.3, §8.1) on real rows made through the app, on both databases."""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.settings import AppSettings
from desk.clock import CHINA
from desk.complaints.models import Complaint
from desk.db import get_sessionmaker
from desk.demands.models import Demand, Evaluation
from desk.reports.service import institution_names

from .staff import staff_headers

INSTITUTION = "inst-chengheng-metrology"


def _china(day: str, hour: int = 15) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=CHINA).replace(
        hour=hour
    )


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Desk:
    """Opens demands and complaints through the app, then dates them like a past month."""

    def __init__(self, client: TestClient, bot: dict[str, str], settings: AppSettings) -> None:
        self.client, self.bot, self.staff = client, bot, staff_headers(client)
        assert settings.database_url
        self.sessions = get_sessionmaker(settings.database_url)
        self.count = 0

    def demand(
        self,
        services: list[str],
        steps: Sequence[dict[str, Any]] = (),
        evaluation: tuple[int, int, int, int] | None = None,
        **values: Any,
    ) -> str:
        self.count += 1
        conversation = f"web:report-{self.count:03d}"
        response = self.client.post(
            "/api/demands",
            headers=self.bot,
            json={
                "conversation_id": conversation,
                "need_text": "检测需求",
                "product": "电线电缆",
                "place": "江阴市周庄镇",
                "contact_name": "张伟",
                "contact_mobile": "13912345678",
                "service_ids": services,
            },
        )
        assert response.status_code == 201, response.text
        number = str(response.json()["number"])
        for step in steps:
            moved = self.client.post(
                f"/api/demands/{number}/transitions", json=step, headers=self.staff
            )
            assert moved.status_code == 200, moved.text
        if evaluation:
            scores = dict(
                zip(
                    ("process_score", "efficiency_score", "attitude_score", "overall_score"),
                    evaluation,
                    strict=True,
                )
            )
            given = self.client.post(
                f"/api/demands/{number}/evaluation",
                json=scores,
                params={"conversation_id": conversation},
                headers=self.bot,
            )
            assert given.status_code == 201, given.text
        evaluated_at = values.pop("evaluated_at", None)
        with self.sessions() as session:
            session.execute(update(Demand).where(Demand.number == number).values(**values))
            if evaluated_at:
                demand_id = session.scalar(select(Demand.id).where(Demand.number == number))
                session.execute(
                    update(Evaluation)
                    .where(Evaluation.demand_id == demand_id)
                    .values(created_at=evaluated_at)
                )
            session.commit()
        return number

    def complaint(self, **values: Any) -> None:
        response = self.client.post(
            "/api/complaints",
            headers=self.staff,
            json={
                "channel": "电话",
                "institution_name": "某检测公司",
                "complaint_type": "收费",
                "content": "收费与报价不一致",
                "contact_mobile": "13912345678",
            },
        )
        assert response.status_code == 201, response.text
        with self.sessions() as session:
            session.execute(
                update(Complaint)
                .where(Complaint.number == response.json()["number"])
                .values(**values)
            )
            session.commit()


DONE = [
    {"to": "responded"},
    {"to": "recommended", "institution_ids": [INSTITUTION]},
    {"to": "matched", "chosen_institution_id": INSTITUTION},
    {"to": "in_service"},
    {"to": "completed"},
]


@pytest.fixture
def march_2025(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> Desk:
    desk = Desk(client, service_headers, app_settings)
    # A: testing; responded and recommended on time; evaluated in March
    desk.demand(
        ["6.4.2"],
        DONE,
        (5, 4, 5, 5),
        created_at=_utc("2025-03-03T02:00:00"),
        respond_due=date(2025, 3, 4),
        recommend_due=date(2025, 3, 6),
        responded_at=_china("2025-03-04"),
        recommended_at=_china("2025-03-06"),
        evaluated_at=_utc("2025-03-20T03:00:00"),
    )
    # B: metrology and testing; responded a day late, recommended on time; evaluated in April
    desk.demand(
        ["6.1.2", "6.4.1"],
        DONE,
        (3, 2, 4, 3),
        created_at=_utc("2025-03-10T02:00:00"),
        respond_due=date(2025, 3, 11),
        recommend_due=date(2025, 3, 13),
        responded_at=_china("2025-03-12"),
        recommended_at=_china("2025-03-13", 9),
        evaluated_at=_utc("2025-04-02T03:00:00"),
    )
    # C: standardization, 23:30 on 31 March in China; never answered: both deadlines missed
    desk.demand(
        ["6.2.1"],
        created_at=_utc("2025-03-31T15:30:00"),
        respond_due=date(2025, 4, 1),
        recommend_due=date(2025, 4, 3),
    )
    # D: quality management, cancelled before anyone answered: counted, not measured
    desk.demand(
        ["6.5.1"],
        [{"to": "cancelled"}],
        created_at=_utc("2025-03-12T02:00:00"),
        respond_due=date(2025, 3, 13),
        recommend_due=date(2025, 3, 17),
    )
    # E: 00:30 on 1 April in China (still 31 March in UTC): an April demand
    desk.demand(
        [],
        created_at=_utc("2025-03-31T16:30:00"),
        respond_due=date(2025, 4, 2),
        recommend_due=date(2025, 4, 7),
        responded_at=_china("2025-04-02"),
    )
    # complaints about the institution: one resolved in time, one still open after its due day
    desk.complaint(
        received_on=date(2025, 3, 5),
        investigation_due=date(2025, 3, 14),
        resolved_at=_china("2025-03-12"),
        status="resolved",
        institution_id=INSTITUTION,
        institution_title=None,
    )
    desk.complaint(
        received_on=date(2025, 3, 20),
        investigation_due=date(2025, 3, 31),
        institution_id=INSTITUTION,
        institution_title=None,
    )
    return desk


def _rate(row: dict[str, Any], name: str) -> tuple[int, int, float | None]:
    return row[name]["measured"], row[name]["on_time"], row[name]["rate"]


def test_one_month_overall_by_domain_and_by_institution(
    client: TestClient, march_2025: Desk
) -> None:
    response = client.get(
        "/api/reports/service-levels", params={"month": "2025-03"}, headers=march_2025.staff
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["start"], report["end"]) == ("2025-03", "2025-03")

    overall = report["overall"]
    assert overall["demands"] == 4  # A, B, C, D; E is April's
    assert _rate(overall, "responded") == (3, 1, 0.3333)  # A on time; B late; C missed
    assert _rate(overall, "recommended") == (3, 2, 0.6667)  # A, B on time; C missed
    assert overall["complaints"] == 2 and _rate(overall, "investigated") == (2, 1, 0.5)
    assert overall["satisfaction"] == {
        "count": 1,
        "process": 5.0,
        "efficiency": 4.0,
        "attitude": 5.0,
        "overall": 5.0,
    }

    domains = {row["key"]: row for row in report["by_domain"]}
    assert domains["testing"]["label"] == "检验检测" and domains["testing"]["demands"] == 2
    assert _rate(domains["testing"], "responded") == (2, 1, 0.5)
    assert domains["testing"]["satisfaction"]["count"] == 1
    assert _rate(domains["metrology"], "responded") == (1, 0, 0.0)
    assert _rate(domains["standardization"], "recommended") == (1, 0, 0.0)
    assert domains["quality"]["demands"] == 1 and domains["quality"]["responded"]["rate"] is None
    assert domains["ip"]["demands"] == 0 and "unspecified" not in domains

    [institution] = report["by_institution"]
    assert institution["key"] == INSTITUTION
    assert institution["label"] == institution_names()[INSTITUTION]
    assert institution["demands"] == 2 and _rate(institution, "recommended") == (2, 2, 1.0)
    assert institution["complaints"] == 2 and _rate(institution, "investigated") == (2, 1, 0.5)
    assert institution["satisfaction"]["overall"] == 5.0

    assert [row["key"] for row in report["by_month"]] == ["2025-03"]
    assert report["by_month"][0]["label"] == "2025年3月"


def test_a_range_of_months_has_a_row_per_month(client: TestClient, march_2025: Desk) -> None:
    report = client.get(
        "/api/reports/service-levels",
        headers=march_2025.staff,
        params={"start": "2025-02", "end": "2025-04"},
    ).json()
    months = {row["key"]: row for row in report["by_month"]}
    assert list(months) == ["2025-02", "2025-03", "2025-04"]
    assert months["2025-02"]["demands"] == 0 and months["2025-02"]["responded"]["rate"] is None
    assert months["2025-04"]["demands"] == 1 and _rate(months["2025-04"], "responded") == (
        1,
        1,
        1.0,
    )
    # B's evaluation was given in April
    assert months["2025-04"]["satisfaction"] == {
        "count": 1,
        "process": 3.0,
        "efficiency": 2.0,
        "attitude": 4.0,
        "overall": 3.0,
    }
    assert report["overall"]["demands"] == 5 and report["overall"]["satisfaction"]["count"] == 2
    assert report["overall"]["satisfaction"]["overall"] == 4.0
    domains = {row["key"]: row for row in report["by_domain"]}
    assert domains["unspecified"]["label"] == "未指定服务"
    assert domains["unspecified"]["demands"] == 1


def test_reports_are_for_staff_only(client: TestClient, service_headers: dict[str, str]) -> None:
    url = "/api/reports/service-levels"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=service_headers).status_code == 403
    assert client.get(url, headers=staff_headers(client, role="expert")).status_code == 403


def test_bad_months_get_chinese_422(client: TestClient) -> None:
    staff = staff_headers(client)
    url = "/api/reports/service-levels"
    bad = client.get(url, headers=staff, params={"month": "2025-13"})
    assert bad.status_code == 422 and bad.json()["detail"]["message"] == "月份格式不正确"
    backwards = client.get(url, headers=staff, params={"start": "2025-05", "end": "2025-01"})
    assert backwards.json()["detail"]["message"] == "起始月份不能晚于截止月份。"
    too_long = client.get(url, headers=staff, params={"start": "2020-01", "end": "2025-01"})
    assert too_long.status_code == 422
    empty = client.get(url, headers=staff)  # this month, nothing yet
    assert empty.status_code == 200 and empty.json()["overall"]["demands"] == 0
