"""The dashboard (§8.1) on generated data whose right answers are computed in the test, on
SQLite and PostgreSQL: on-time rates across the National Day holiday, counts by domain, region
and month, satisfaction, escalations and their waits, what the bot could not answer, exports."""

from collections import defaultdict
from datetime import date, timedelta
from io import BytesIO
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.settings import AppSettings
from desk.clock import today as china_today
from desk.db import get_sessionmaker
from desk.escalations.models import Escalation

from .reports_data import INSTITUTION, Generated, add_working, generate, utc_of
from .staff import staff_headers

PERIOD = {"from": "2025-09-01", "to": "2025-10-31"}
DOMAIN_OF = {"6.1": "metrology", "6.2": "standardization", "6.4": "testing"}


@pytest.fixture
def data(
    client: TestClient,
    service_headers: dict[str, str],
    app_settings: AppSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Generated, dict[str, str]]:
    staff = staff_headers(client)
    made = generate(
        client,
        bot=service_headers,
        staff=staff,
        settings=app_settings,
        monkeypatch=monkeypatch,
    )
    return made, staff


def _expected_rates(made: Generated) -> dict[str, list[int]]:
    """measured, on time per deadline, computed from the generated facts alone (the desk's
    today is long after October 2025, so every deadline has passed)."""
    result = {"responded": [0, 0], "recommended": [0, 0], "investigated": [0, 0]}
    for d in made.demands:
        for name, done, due in (
            ("responded", d.responded, add_working(d.submitted, 1)),
            ("recommended", d.recommended, add_working(d.submitted, 3)),
        ):
            if done is not None:
                result[name][0] += 1
                result[name][1] += done <= due
            elif d.status != "cancelled":
                result[name][0] += 1
    for c in made.complaints:
        result["investigated"][0] += 1
        result["investigated"][1] += c.resolved is not None and c.resolved <= add_working(
            c.received, 7
        )
    return result


def _pair(row: dict[str, Any], name: str) -> list[int]:
    return [row[name]["measured"], row[name]["on_time"]]


def test_dashboard_counts_and_on_time_rates(
    client: TestClient, data: tuple[Generated, dict[str, str]]
) -> None:
    made, staff = data
    response = client.get("/api/reports/dashboard", params=PERIOD, headers=staff)
    assert response.status_code == 200, response.text
    report = response.json()
    overall = report["overall"]
    assert overall["demands"] == len(made.demands)
    assert overall["complaints"] == len(made.complaints)
    expected = _expected_rates(made)
    for name, pair in expected.items():
        assert _pair(overall, name) == pair, name
        assert overall[name]["rate"] == round(pair[1] / pair[0], 4)

    # by month
    months = {row["key"]: row for row in report["by_month"]}
    assert list(months) == ["2025-09", "2025-10"]
    for key in months:
        count = sum(1 for d in made.demands if f"{d.submitted:%Y-%m}" == key)
        complaints = sum(1 for c in made.complaints if f"{c.received:%Y-%m}" == key)
        assert (months[key]["demands"], months[key]["complaints"]) == (count, complaints)

    # by domain: a demand with two domains counts in both; complaints by their institution
    domains = {row["key"]: row for row in report["by_domain"]}
    want: dict[str, int] = defaultdict(int)
    for d in made.demands:
        for key in {DOMAIN_OF[s[:3]] for s in d.services} or {"unspecified"}:
            want[key] += 1
    for key, count in want.items():
        assert domains[key]["demands"] == count, key
    linked = sum(1 for c in made.complaints if c.institution == INSTITUTION)
    assert domains["metrology"]["complaints"] == linked
    assert domains["unspecified"]["complaints"] == len(made.complaints) - linked

    # by region: from the free-text place; the institution's region for complaints
    regions = {row["key"]: row for row in report["by_region"]}
    for region in {d.region for d in made.demands}:
        assert regions[region]["demands"] == sum(1 for d in made.demands if d.region == region)
    assert regions["unknown"]["label"] == "未注明区域"
    assert regions["江阴市澄江街道"]["complaints"] == linked

    # satisfaction: averages of the evaluations given in the period
    scores = [d.scores for d in made.demands if d.scores and d.evaluated]
    inside = [
        s
        for d in made.demands
        if d.scores and d.evaluated and d.evaluated <= date(2025, 10, 31)
        for s in [d.scores]
    ]
    assert scores and overall["satisfaction"]["count"] == len(inside)
    for i, name in enumerate(("process", "efficiency", "attitude", "overall")):
        assert overall["satisfaction"][name] == round(sum(s[i] for s in inside) / len(inside), 2)


def test_a_deadline_across_the_national_day_holiday(
    client: TestClient,
    service_headers: dict[str, str],
    app_settings: AppSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Submitted on 30 September 2025: a response on 9 October is within 1 working day (1–8
    October are holidays), one on 10 October is late; the recommendation is due on Saturday
    11 October, a worked day."""
    staff = staff_headers(client)
    made = generate(
        client,
        bot=service_headers,
        staff=staff,
        settings=app_settings,
        monkeypatch=monkeypatch,
        demands=0,
        complaints=0,
    )
    assert not made.demands
    from sqlalchemy import update

    from desk.demands.models import Demand

    from .reports_data import china, desk_today

    numbers = []
    for i in range(3):
        with desk_today(monkeypatch, date(2025, 9, 30)):
            body = client.post(
                "/api/demands",
                headers=service_headers,
                json={
                    "conversation_id": f"web:holiday-{i}",
                    "need_text": "计量校准",
                    "product": "压力表",
                    "place": "江阴市周庄镇",
                    "contact_name": "李娜",
                    "contact_mobile": "13812345678",
                    "service_ids": ["6.1.2"],
                },
            ).json()
        assert (body["respond_due"], body["recommend_due"]) == ("2025-10-09", "2025-10-11")
        numbers.append(body["number"])
    answered = [
        (date(2025, 10, 9), date(2025, 10, 11)),  # both on the last allowed day
        (date(2025, 10, 10), date(2025, 10, 13)),  # both a working day late
        (date(2025, 10, 3), None),  # inside the holiday; never recommended
    ]
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        for number, (responded, recommended) in zip(numbers, answered, strict=True):
            session.execute(
                update(Demand)
                .where(Demand.number == number)
                .values(
                    created_at=utc_of(date(2025, 9, 30), 10),
                    responded_at=china(responded, 15),
                    recommended_at=china(recommended, 15) if recommended else None,
                )
            )
        session.commit()
    report = client.get(
        "/api/reports/dashboard", params={"from": "2025-09-30", "to": "2025-09-30"}, headers=staff
    ).json()
    assert _pair(report["overall"], "responded") == [3, 2]
    assert _pair(report["overall"], "recommended") == [3, 1]
    assert [row["key"] for row in report["by_month"]] == ["2025-09"]


def test_escalations_and_their_waits(
    client: TestClient, app_settings: AppSettings, service_headers: dict[str, str]
) -> None:
    staff = staff_headers(client)
    opened = utc_of(date(2025, 9, 10), 10)
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        for i, (wait, status, reason) in enumerate(
            [
                (2, "closed", "requested"),
                (5, "closed", "requested"),
                (9, "claimed", "fallback"),
                (30, "closed", "requested"),
                (None, "waiting", "requested"),
                (None, "closed", "fallback"),
            ]
        ):
            session.add(
                Escalation(
                    conversation_id=f"web:esc-{i}",
                    active_key=f"web:esc-{i}" if status != "closed" else None,
                    channel="web",
                    reason=reason,
                    status=status,
                    domain="testing" if i % 2 else None,
                    created_at=opened + timedelta(hours=i),
                    claimed_at=opened + timedelta(hours=i, minutes=wait) if wait else None,
                )
            )
        session.commit()
    stats = client.get(
        "/api/reports/dashboard", params={"from": "2025-09-01", "to": "2025-09-30"}, headers=staff
    ).json()["escalations"]
    overall = stats["overall"]
    assert (overall["count"], overall["claimed"], overall["unclaimed"]) == (6, 4, 1)
    assert overall["waiting_now"] == 1
    # waits 2, 5, 9, 30 minutes: nearest-rank median 5, 90th percentile 30, mean 11.5
    assert (overall["median_wait_minutes"], overall["p90_wait_minutes"]) == (5.0, 30.0)
    assert overall["mean_wait_minutes"] == 11.5
    reasons = {row["key"]: row["count"] for row in stats["by_reason"]}
    assert reasons == {"requested": 4, "fallback": 2}
    assert [row["key"] for row in stats["by_month"]] == ["2025-09"]


def test_unanswered_queries_grouped_once_each_and_masked(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    staff = staff_headers(client)
    said = [
        ("web:u1", "m1", "fallback", "请问CMA证书怎么办？"),
        ("web:u2", "m1", "faq_miss", "cma证书 怎么办"),
        ("web:u3", "m9", "faq_miss", "CMA 证书，怎么办!"),
        ("web:u3", "m9", "faq_miss", "CMA 证书，怎么办!"),  # the bot's retry: nothing new
        ("web:u4", "m2", "fallback", "我的电话13912345678能查吗"),
    ]
    answers = [
        client.post(
            "/api/reports/unanswered",
            headers=service_headers,
            json={"conversation_id": c, "message_id": m, "kind": k, "text": t},
        )
        for c, m, k, t in said
    ]
    assert [a.status_code for a in answers] == [201, 201, 201, 200, 201]
    assert answers[2].json()["id"] == answers[3].json()["id"]
    on = china_today().isoformat()
    groups = client.get(
        "/api/reports/unanswered", params={"from": on, "to": on}, headers=staff
    ).json()
    assert [(g["count"], g["conversations"], g["variants"]) for g in groups] == [
        (3, 3, 3),
        (1, 1, 1),
    ]
    assert groups[0]["key"] == "cma证书怎么办"
    assert set(groups[0]["kinds"]) == {"未能理解", "知识库未找到答案"}
    assert groups[1]["text"] == "我的电话139****5678能查吗"  # never stored unmasked
    # only the bot reports; only staff read
    refused = client.post(
        "/api/reports/unanswered",
        headers=staff,
        json={"conversation_id": "web:x1", "message_id": "1", "kind": "fallback", "text": "x"},
    )
    assert refused.status_code == 403
    assert client.get("/api/reports/unanswered", headers=service_headers).status_code == 403


def test_every_table_exports_to_xlsx_with_the_dashboard_rows(
    client: TestClient, data: tuple[Generated, dict[str, str]]
) -> None:
    made, staff = data
    report = client.get("/api/reports/dashboard", params=PERIOD, headers=staff).json()
    response = client.get("/api/reports/export/regions", params=PERIOD, headers=staff)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    sheet = load_workbook(BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert [r[0] for r in rows] == [row["label"] for row in report["by_region"]] + ["合计"]
    assert [r[1] for r in rows[:-1]] == [row["demands"] for row in report["by_region"]]
    assert rows[-1][1] == len(made.demands)
    header = [c.value for c in sheet[3]]
    rate_col = header.index("1日响应按时率")
    assert rows[-1][rate_col] == pytest.approx(report["overall"]["responded"]["rate"])

    whole = client.get("/api/reports/export/all", params=PERIOD, headers=staff)
    book = load_workbook(BytesIO(whole.content))
    assert book.sheetnames == [
        "按服务领域",
        "按区域",
        "按月份",
        "按服务机构",
        "转人工与等待时间",
        "未能解答的问题",
        "改进事项",
    ]
    assert client.get("/api/reports/export/regions", params=PERIOD).status_code == 401
    assert client.get("/api/reports/export/nothing", headers=staff).status_code == 422


def test_bad_periods_get_a_chinese_422(client: TestClient) -> None:
    staff = staff_headers(client)
    url = "/api/reports/dashboard"
    backwards = client.get(url, headers=staff, params={"from": "2025-05-01", "to": "2025-01-01"})
    assert backwards.status_code == 422
    assert backwards.json()["detail"]["message"] == "开始日期不能晚于结束日期。"
    too_long = client.get(url, headers=staff, params={"from": "2020-01-01", "to": "2025-01-01"})
    assert too_long.json()["detail"]["message"] == "一次最多统计三年。"
    default = client.get(url, headers=staff).json()  # this month, up to today
    assert default["start"] == china_today().replace(day=1).isoformat()
    assert client.get(url, headers=staff_headers(client, role="expert")).status_code == 403
