"""Staff enter demands received by phone, at a station or by letter (§7.2.2.1.1): the bot's
checks and numbering, the channel recorded, once per double submit; a demand's detail page."""

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.settings import AppSettings
from desk.db import get_sessionmaker
from desk.demands.models import Demand

from .console import make_user
from .staff import staff_headers

PHONE_DEMAND = {
    "channel": "phone",
    "need_text": "来电：一批压力表需要检定",
    "product": "压力表",
    "place": "江阴市周庄镇",
    "contact_name": "李强",
    "contact_mobile": "139-1234-5678",
    "company_name": "江阴某阀门有限公司",
    "service_ids": ["6.1.2"],
}


def _count(settings: AppSettings) -> int:
    assert settings.database_url
    with get_sessionmaker(settings.database_url)() as session:
        return int(session.scalar(select(func.count(Demand.id))) or 0)


def test_a_phone_demand_is_numbered_like_the_bots_and_entered_once(
    client: TestClient, app_settings: AppSettings, service_headers: dict[str, str]
) -> None:
    staff = staff_headers(client)
    key = {"Idempotency-Key": "entry-3f2a9c"}
    first = client.post("/api/desk/demands", headers=staff | key, json=PHONE_DEMAND)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["number"].startswith("XQ") and body["number"].endswith("-0001")
    assert (body["channel"], body["channel_label"], body["conversation_id"]) == (
        "phone",
        "电话",
        None,
    )
    assert body["contact_mobile"] == "13912345678" and body["recommended_by"] == "staff"
    assert body["respond_due"] < body["recommend_due"]

    again = client.post("/api/desk/demands", headers=staff | key, json=PHONE_DEMAND)
    assert again.status_code == 200 and again.json()["number"] == body["number"]
    assert _count(app_settings) == 1

    # the bot's next demand takes the next number of the same day
    bot = client.post(
        "/api/demands",
        headers=service_headers,
        json=PHONE_DEMAND | {"channel": "web", "conversation_id": "web:entry-next-1"},
    )
    assert bot.status_code == 201 and bot.json()["number"].endswith("-0002")

    detail = client.get(f"/api/desk/demands/{body['number']}", headers=staff).json()
    assert detail["transcript"] == []
    assert detail["conversation_note"] == (
        "该需求由工作人员根据电话录入，没有在线会话；进展请通过电话告知企业。"
    )
    assert [s["id"] for s in detail["services"]] == ["6.1.2"]
    [step] = detail["timeline"]
    assert (step["to_status"], step["actor"]) == ("submitted", "staff.user")
    assert [(m["status"], m["label"]) for m in detail["next_moves"]] == [
        ("responded", "已响应"),
        ("cancelled", "已取消"),
    ]

    # moving it on: the timeline says why the enterprise was not told automatically
    moved = client.post(
        f"/api/demands/{body['number']}/transitions",
        headers=staff,
        json={"to": "responded", "note": "已回电确认检定数量"},
    )
    assert moved.status_code == 200, moved.text
    steps = client.get(f"/api/desk/demands/{body['number']}", headers=staff).json()["timeline"]
    assert [(s["from_status"], s["to_status"]) for s in steps] == [
        (None, "submitted"),
        ("submitted", "responded"),
        ("responded", "responded"),
    ]
    assert steps[1]["note"] == "已回电确认检定数量"
    assert steps[2]["note"] == "电话录入，没有在线会话，未自动告知企业；请通过电话告知“已响应”。"


def test_entry_refuses_what_the_bot_refuses_in_chinese(
    client: TestClient, app_settings: AppSettings
) -> None:
    staff = staff_headers(client)
    bad_mobile = client.post(
        "/api/desk/demands", headers=staff, json=PHONE_DEMAND | {"contact_mobile": "12345"}
    )
    assert bad_mobile.status_code == 422
    detail = bad_mobile.json()["detail"]
    assert detail["code"] == "invalid_input" and "手机号码" in detail["message"]
    web = client.post("/api/desk/demands", headers=staff, json=PHONE_DEMAND | {"channel": "web"})
    assert web.status_code == 422
    blank = client.post("/api/desk/demands", headers=staff, json=PHONE_DEMAND | {"product": "  "})
    assert blank.status_code == 422 and "产品或对象" in blank.json()["detail"]["message"]
    assert _count(app_settings) == 0

    expert = make_user(client, "expert.qian", domains=["metrology"])
    refused = client.post("/api/desk/demands", headers=expert, json=PHONE_DEMAND)
    assert refused.status_code == 403 and _count(app_settings) == 0


def test_detail_shows_recommended_institutions_with_reasons(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    from knowledge.store import get_knowledge

    cable = next(
        i
        for i in get_knowledge().institutions
        if any("电缆" in p for c in i.capabilities for p in c.products)
    )
    created = client.post(
        "/api/demands",
        headers=service_headers,
        json={
            "conversation_id": "web:entry-detail-1",
            "need_text": "电线电缆检测",
            "product": "电线电缆",
            "place": cable.region,
            "contact_name": "张伟",
            "contact_mobile": "13912345678",
            "service_ids": [cable.capabilities[0].service_id],
            "institution_ids": [cable.id, "inst-gone-away"],
            "chosen_institution_id": cable.id,
        },
    ).json()
    staff = staff_headers(client)
    detail = client.get(f"/api/desk/demands/{created['number']}", headers=staff).json()
    first, gone = detail["institutions"]
    assert (first["id"], first["title"], first["chosen"]) == (cable.id, cable.title, True)
    assert f"与您同在{cable.region}" in first["reason"]
    assert (gone["title"], gone["reason"]) == ("inst-gone-away", "知识库中已没有该机构。")
    assert detail["conversation_note"] is None and detail["transcript"] == []
