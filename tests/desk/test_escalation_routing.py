"""Routing of escalations by domain, the claim race, assign and transfer, the queue standing."""

import threading
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.settings import AppSettings
from desk.audit import entries_for
from desk.clock import now
from desk.escalations import service
from desk.escalations.schemas import EscalationCreate

from .console import admin_headers, claim, detail, make_user, open_escalation, session_for

NEED = {
    "product": "电线电缆",
    "place": "无锡市新吴区",
    "urgency": "本周内",
    "contact_masked": "138****1111",
}


def test_a_new_escalation_is_offered_to_online_experts_of_its_domain(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    make_user(client, "zhang.expert", domains=["metrology", "testing"], presence="online")
    make_user(client, "li.expert", domains=["metrology"])  # away
    make_user(client, "zhao.expert", domains=["testing"], presence="online")

    created = open_escalation(
        client,
        service_headers,
        "web:route-1",
        domain="metrology",
        need=NEED | {"empty": ""},
        enterprise="无锡某线缆有限公司",
    )
    assert created["offered_to"] == ["zhang.expert"]
    assert (created["domain"], created["domain_label"]) == ("metrology", "计量")
    assert created["enterprise"] == "无锡某线缆有限公司"
    with session_for(app_settings) as session:
        row = service.get_escalation(session, escalation_id=created["id"])
        assert row.need == NEED  # empty values are not kept
        assert row.offered_to == ["zhang.expert"]

    testing = open_escalation(client, service_headers, "web:route-2", domain="testing")
    assert testing["offered_to"] == ["zhang.expert", "zhao.expert"]
    # nobody of the domain online, "other", or no domain: offered to everyone ([])
    for number, domain in enumerate(["ip", "other", None]):
        fields = {"domain": domain} if domain else {}
        opened = open_escalation(client, service_headers, f"web:route-o{number}", **fields)
        assert opened["offered_to"] == []
    bad = client.post(
        "/api/escalations",
        headers=service_headers,
        json={"conversation_id": "web:route-x", "domain": "astrology"},
    )
    assert bad.status_code == 422


def test_the_create_answer_tells_the_enterprise_its_place_and_wait(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    first = open_escalation(client, service_headers, "web:queue-1")
    assert (first["queue_position"], first["experts_online"]) == (1, 0)
    assert first["expected_wait_minutes"] == 5  # nothing claimed here yet: the default
    make_user(client, "zhang.expert", presence="online")
    second = open_escalation(client, service_headers, "web:queue-2")
    assert (second["queue_position"], second["experts_online"]) == (2, 1)
    assert second["expected_wait_minutes"] == 10  # two ahead of one expert, 5 minutes each
    make_user(client, "li.expert", presence="online")
    third = open_escalation(client, service_headers, "web:queue-3")
    assert (third["queue_position"], third["experts_online"]) == (3, 2)
    assert third["expected_wait_minutes"] == 10


def test_public_view_shows_names_labels_and_minutes_waited(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    expert = make_user(client, "zhang.expert", display_name="张工")
    with session_for(app_settings) as session:
        escalation, _ = service.create_escalation(
            session,
            data=EscalationCreate(conversation_id="web:minutes-1", domain="quality"),
            actor="bot",
            moment=now() - timedelta(minutes=12, seconds=5),
        )
        escalation_id = escalation.id
    waiting = client.get(f"/api/escalations/{escalation_id}", headers=expert).json()
    assert waiting["waiting_minutes"] == 12  # on SQLite too, whose datetimes come back naive
    assert (waiting["domain_label"], waiting["expert_name"]) == ("质量管理", None)
    listed = client.get("/api/escalations", params={"status": "waiting"}, headers=expert).json()
    assert listed["items"][0]["waiting_minutes"] == 12

    claimed = claim(client, expert, escalation_id)
    assert (claimed["expert"], claimed["expert_name"]) == ("zhang.expert", "张工")
    assert claimed["waiting_minutes"] == 12  # until the claim, then it stops counting
    mine = client.get("/api/escalations", params={"mine": "true"}, headers=expert).json()
    assert [e["id"] for e in mine["items"]] == [escalation_id]

    closed = client.post(
        f"/api/escalations/{escalation_id}/close", headers=expert, json={"outcome": "answered"}
    )
    assert closed.status_code == 200, closed.text
    assert (closed.json()["outcome"], closed.json()["outcome_label"]) == ("answered", "已解答")
    assert closed.json()["status_label"] == "已交还智能助手"
    # the next escalation's expected wait learns from this one (12 minutes)
    assert open_escalation(client, service_headers, "web:minutes-2")["expected_wait_minutes"] == 12


def test_two_experts_claiming_at_once_exactly_one_wins(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    experts = {
        "zhang.expert": make_user(client, "zhang.expert", display_name="张工"),
        "li.expert": make_user(client, "li.expert", display_name="李工"),
    }
    escalation_id = open_escalation(client, service_headers, "web:race-1")["id"]
    start = threading.Barrier(len(experts))
    answers: dict[str, Any] = {}

    def claim_as(username: str) -> None:
        start.wait(timeout=10)
        answers[username] = client.post(
            f"/api/escalations/{escalation_id}/claim", headers=experts[username]
        )

    threads = [threading.Thread(target=claim_as, args=(name,)) for name in experts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(a.status_code for a in answers.values()) == [200, 409]
    [winner] = [name for name, a in answers.items() if a.status_code == 200]
    [loser] = [a for a in answers.values() if a.status_code == 409]
    winner_name = {"zhang.expert": "张工", "li.expert": "李工"}[winner]
    assert detail(loser) == (409, "already_claimed", f"该会话已由{winner_name}接入。")
    assert answers[winner].json()["expert"] == winner

    timeline = client.get(f"/api/escalations/{escalation_id}/events", headers=experts[winner])
    steps = [(e["from_status"], e["to_status"], e["actor"]) for e in timeline.json()]
    assert steps == [(None, "waiting", "bot"), ("waiting", "claimed", winner)]
    with session_for(app_settings) as session:
        actions = [e.action for e in entries_for(session, subject=f"escalation:{escalation_id}")]
        assert service.get_escalation(session, escalation_id=escalation_id).expert == winner
    assert actions == ["escalation.create", "escalation.claim"]


def test_staff_assign_and_the_holder_transfers_with_a_note(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    zhang = make_user(client, "zhang.expert", display_name="张工")
    li = make_user(client, "li.expert", display_name="李工")
    staff = make_user(client, "wang.staff", "staff", display_name="王敏")
    escalation_id = open_escalation(client, service_headers, "web:hand-1")["id"]
    url = f"/api/escalations/{escalation_id}"

    assert (
        client.post(f"{url}/assign", headers=zhang, json={"expert": "li.expert"}).status_code == 403
    )
    assert (
        client.post(f"{url}/assign", headers=service_headers, json={"expert": "li.expert"})
    ).status_code == 403
    # nobody holds a waiting one: no expert can transfer it
    waiting_transfer = client.post(f"{url}/transfer", headers=zhang, json={"expert": "li.expert"})
    assert detail(waiting_transfer) == (403, "not_yours", "只有接入该会话的专家可以转给同事。")
    to_staff = client.post(f"{url}/assign", headers=staff, json={"expert": "wang.staff"})
    assert detail(to_staff) == (422, "not_expert", "王敏 不是在岗的专家。")
    to_nobody = client.post(f"{url}/assign", headers=staff, json={"expert": "nobody"})
    assert to_nobody.status_code == 404

    assigned = client.post(
        f"{url}/assign", headers=staff, json={"expert": "zhang.expert", "note": " 计量问题 "}
    )
    assert assigned.status_code == 200, assigned.text
    assert (assigned.json()["status"], assigned.json()["expert"]) == ("claimed", "zhang.expert")
    assert assigned.json()["offered_to"] == ["zhang.expert"] and assigned.json()["claimed_at"]
    again = client.post(f"{url}/assign", headers=staff, json={"expert": "zhang.expert"})
    assert detail(again) == (422, "same_expert", "该会话已由张工接待。")
    assert client.post(f"{url}/claim", headers=li).status_code == 409

    stolen = client.post(f"{url}/transfer", headers=li, json={"expert": "li.expert"})
    assert detail(stolen) == (403, "not_yours", "只有接入该会话的专家可以转给同事。")
    assert (
        client.post(f"{url}/transfer", headers=staff, json={"expert": "li.expert"}).status_code
        == 403
    )
    transferred = client.post(
        f"{url}/transfer", headers=zhang, json={"expert": "li.expert", "note": "涉及检验检测"}
    )
    assert transferred.status_code == 200, transferred.text
    assert (transferred.json()["expert"], transferred.json()["expert_name"]) == (
        "li.expert",
        "李工",
    )
    assert transferred.json()["status"] == "claimed"
    # the one who handed it on no longer holds it
    assert (
        client.post(f"{url}/transfer", headers=zhang, json={"expert": "zhang.expert"}).status_code
        == 403
    )
    reassigned = client.post(f"{url}/assign", headers=staff, json={"expert": "zhang.expert"})
    assert reassigned.status_code == 200 and reassigned.json()["expert"] == "zhang.expert"

    timeline = client.get(f"{url}/events", headers=staff).json()
    assert [(e["from_status"], e["to_status"], e["actor"], e["note"]) for e in timeline] == [
        (None, "waiting", "bot", "用户要求转人工"),
        ("waiting", "claimed", "wang.staff", "指派给张工：计量问题"),
        ("claimed", "claimed", "zhang.expert", "转给李工：涉及检验检测"),
        ("claimed", "claimed", "wang.staff", "指派给张工"),
    ]
    with session_for(app_settings) as session:
        entries = entries_for(session, subject=f"escalation:{escalation_id}")
    assert [(e.action, e.details) for e in entries[1:]] == [
        ("escalation.assign", {"from": "waiting", "to": "claimed", "expert": "zhang.expert"}),
        ("escalation.transfer", {"from_expert": "zhang.expert", "expert": "li.expert"}),
        ("escalation.assign", {"from_expert": "li.expert", "expert": "zhang.expert"}),
    ]

    closed = client.post(f"{url}/close", headers=zhang, json={"outcome": "no_reply"})
    assert closed.status_code == 200 and closed.json()["outcome_label"] == "用户未回复"
    late = client.post(f"{url}/assign", headers=staff, json={"expert": "li.expert"})
    assert detail(late) == (409, "illegal_transition", "该咨询已结束，不能再指派或转交。")
    late_transfer = client.post(f"{url}/transfer", headers=zhang, json={"expert": "li.expert"})
    assert detail(late_transfer) == (409, "illegal_transition", "该咨询已结束，不能再指派或转交。")


def test_release_with_an_outcome_and_who_may_close(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    zhang = make_user(client, "zhang.expert")
    li = make_user(client, "li.expert")
    escalation_id = open_escalation(client, service_headers, "web:release-1")["id"]
    url = f"/api/escalations/{escalation_id}"
    # a waiting one: only a supervisor may close it
    early = client.post(f"{url}/close", headers=zhang, json={"outcome": "answered"})
    assert detail(early) == (403, "not_yours", "只有接入该会话的专家或工作人员可以交还会话。")
    claim(client, zhang, escalation_id)
    assert client.post(f"{url}/close", headers=li, json={"outcome": "answered"}).status_code == 403
    assert (
        client.post(f"{url}/close", headers=zhang, json={"outcome": "timeout"}).status_code == 422
    )
    with session_for(app_settings) as session:
        closed = service.release(
            session,
            escalation_id=escalation_id,
            actor="zhang.expert",
            note="",
            moment=now(),
            outcome="demand_opened",
        )
        assert (closed.status, closed.outcome, closed.active_key) == (
            "closed",
            "demand_opened",
            None,
        )
    timeline = client.get(f"{url}/events", headers=admin_headers(client)).json()
    assert timeline[-1]["note"] == "已提交需求"  # no note given: the outcome in words
    twice = client.post(f"{url}/close", headers=zhang, json={"outcome": "answered"})
    assert twice.status_code == 409
