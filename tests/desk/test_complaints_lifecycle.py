"""A complaint's life on the desk (§7.4.3): transitions, timeline, roles, overdue, audit."""

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.settings import AppSettings
from desk.audit import entries_for
from desk.complaints.models import Complaint
from desk.db import get_sessionmaker

from .staff import staff_headers

CONVERSATION = "web:complaint-lifecycle-0001"
COMPLAINT = {
    "conversation_id": CONVERSATION,
    "institution_name": "江阴远澄线缆检测",
    "complaint_type": "quality",
    "content": "检测报告的结论和我们自己复测的结果差别很大",
    "demand": "要求重新检测并书面说明",
    "contact_name": "李娜",
    "contact_mobile": "13812345678",
}


def _file(client: TestClient, service_headers: dict[str, str]) -> str:
    response = client.post("/api/complaints", json=COMPLAINT, headers=service_headers)
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def _move(client: TestClient, number: str, headers: dict[str, str], **body: str) -> dict[str, Any]:
    response = client.post(f"/api/complaints/{number}/transitions", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_full_life_with_timeline_and_audit(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    number = _file(client, service_headers)
    staff = staff_headers(client)
    _move(client, number, staff, to="investigating", note="已调取送检记录")
    forwarded = _move(client, number, staff, to="forwarded", note="已转远澄线缆检测中心")
    assert forwarded["forwarded_at"] and forwarded["institution_id"] == "inst-yuancheng-cable-lab"
    resolved = _move(
        client,
        number,
        staff,
        to="resolved",
        resolution="机构已免费复检，原报告数据录入有误，已更正并致歉",
    )
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    assert resolved["resolution"].startswith("机构已免费复检")
    informed = _move(client, number, staff, to="informed", note="已电话告知投诉人")
    assert (informed["status"], informed["status_label"]) == ("informed", "已反馈投诉人")
    assert informed["contact_mobile"] == "13812345678"  # staff see the full number

    # the bot reads the timeline on behalf of the complainant's conversation
    timeline = client.get(
        f"/api/complaints/{number}/events",
        params={"conversation_id": CONVERSATION},
        headers=service_headers,
    )
    assert timeline.status_code == 200, timeline.text
    steps = timeline.json()
    assert steps[0]["to_status_label"] == "已受理"
    assert [(e["from_status"], e["to_status"]) for e in steps] == [
        (None, "received"),
        ("received", "investigating"),
        ("investigating", "forwarded"),
        ("forwarded", "resolved"),
        ("resolved", "informed"),
    ]
    assert [e["actor"] for e in steps] == ["bot"] + ["staff.user"] * 4
    assert steps[1]["note"] == "已调取送检记录"
    assert [e["at"] for e in steps] == sorted(e["at"] for e in steps)

    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        everything = entries_for(session, subject=number)
    # each move also tried to tell the complainant (the desk alone has no channel to do it)
    told = [e.details for e in everything if e.action == "complaint.notice"]
    assert len(told) == 4 and all(d["how"] is None for d in told)
    entries = [e for e in everything if e.action != "complaint.notice"]
    assert [e.action for e in entries] == ["complaint.create"] + ["complaint.transition"] * 4
    assert [e.actor for e in entries] == ["bot"] + ["staff.user"] * 4
    assert entries[-1].details["from"] == "resolved" and entries[-1].details["to"] == "informed"
    assert all("13812345678" not in str(e.details) for e in entries)


def test_illegal_jump_is_409_in_chinese(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    number = _file(client, service_headers)
    staff = staff_headers(client)
    response = client.post(
        f"/api/complaints/{number}/transitions",
        headers=staff,
        json={"to": "resolved", "resolution": "已处理"},
    )
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert detail["code"] == "illegal_transition"
    assert detail["message"] == "投诉当前状态为“已受理”，不能变更为“已处理完毕”。"
    unknown = client.post(
        f"/api/complaints/{number}/transitions", headers=staff, json={"to": "closed"}
    )
    assert unknown.status_code == 422 and "目标状态" in unknown.json()["detail"]["message"]
    missing = client.post(
        "/api/complaints/TS20000101-0001/transitions", headers=staff, json={"to": "investigating"}
    )
    assert missing.status_code == 404 and "TS20000101-0001" in missing.json()["detail"]["message"]


def test_resolving_needs_a_resolution(client: TestClient, service_headers: dict[str, str]) -> None:
    number = _file(client, service_headers)
    staff = staff_headers(client)
    _move(client, number, staff, to="investigating")
    _move(client, number, staff, to="forwarded")
    for body in ({"to": "resolved"}, {"to": "resolved", "resolution": "   "}):
        response = client.post(f"/api/complaints/{number}/transitions", json=body, headers=staff)
        assert response.status_code == 422
        assert response.json()["detail"] == {
            "code": "resolution_required",
            "message": "办结投诉时请填写处理意见。",
        }
    assert client.get(f"/api/complaints/{number}", headers=staff).json()["status"] == "forwarded"


def test_forwarding_can_link_the_institution_staff_choose(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/complaints",
        headers=service_headers,
        json={**COMPLAINT, "institution_name": "那家线缆检测机构"},
    )
    number = response.json()["number"]
    assert response.json()["institution_id"] is None
    staff = staff_headers(client)
    _move(client, number, staff, to="investigating")
    unknown = client.post(
        f"/api/complaints/{number}/transitions",
        headers=staff,
        json={"to": "forwarded", "institution_id": "inst-nowhere"},
    )
    assert unknown.status_code == 422
    forwarded = _move(client, number, staff, to="forwarded", institution_id="inst-dongting-cable")
    assert forwarded["institution_id"] == "inst-dongting-cable"
    assert forwarded["institution_title"] == "无锡东亭线缆质量检验有限公司"


def test_roles(client: TestClient, service_headers: dict[str, str]) -> None:
    number = _file(client, service_headers)
    expert = staff_headers(client, role="expert")
    for headers in (expert, service_headers):
        response = client.post(
            f"/api/complaints/{number}/transitions", headers=headers, json={"to": "investigating"}
        )
        assert response.status_code == 403
        assert response.json()["detail"]["message"] == "您没有执行此操作的权限。"
    assert client.get("/api/complaints", headers=expert).status_code == 403
    bot_list = client.get("/api/complaints", headers=service_headers)
    assert bot_list.status_code == 403
    assert bot_list.json()["detail"]["message"] == "智能助手只能查询本会话的投诉。"


def test_overdue_complaints_are_flagged_and_listed(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    late, on_time, late_but_resolved = (_file(client, service_headers) for _ in range(3))
    staff = staff_headers(client)
    _move(client, late_but_resolved, staff, to="investigating")
    _move(client, late_but_resolved, staff, to="forwarded")
    _move(client, late_but_resolved, staff, to="resolved", resolution="已协调机构退费")
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        session.execute(
            update(Complaint)
            .where(Complaint.number.in_([late, late_but_resolved]))
            .values(received_on=date(2026, 1, 5), investigation_due=date(2026, 1, 14))
        )
        session.commit()

    listed = client.get("/api/complaints", params={"overdue": "true"}, headers=staff)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [c["number"] for c in items] == [late]
    assert items[0]["overdue"] is True
    assert client.get(f"/api/complaints/{on_time}", headers=staff).json()["overdue"] is False
    resolved = client.get(f"/api/complaints/{late_but_resolved}", headers=staff).json()
    assert resolved["overdue"] is False  # resolved in time or not, no longer waiting

    everything = client.get("/api/complaints", headers=staff).json()["items"]
    assert {c["number"] for c in everything} == {late, on_time, late_but_resolved}
    by_status = client.get("/api/complaints", params={"status": "resolved"}, headers=staff)
    assert [c["number"] for c in by_status.json()["items"]] == [late_but_resolved]
    own_overdue = client.get(
        "/api/complaints",
        headers=service_headers,
        params={"conversation_id": CONVERSATION, "overdue": "true"},
    )
    assert [c["number"] for c in own_overdue.json()["items"]] == [late]
