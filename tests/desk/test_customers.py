"""Customers (§7.1) through the real app: registration, conversations, verification, name change."""

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.settings import AppSettings
from desk.audit import entries_for
from desk.calendar.service import load_calendar
from desk.clock import today
from desk.customers import reviews
from desk.customers.models import CustomerReview
from desk.db import get_sessionmaker
from desk.errors import InvalidInput
from desk.sla import REVIEW_WORKING_DAYS

from .staff import staff_headers

CONVERSATION = "web:customer-0001"
CREDIT_CODE = "91320281MA1W6XKQ0T"
OTHER_CREDIT_CODE = "91320214MA1MUK7X29"
ID_NUMBER = "32028119900307123X"
ENTERPRISE = {
    "kind": "企业用户",
    "name": "江阴远澄线缆有限公司",
    "conversation_id": CONVERSATION,
    "contact_name": "张伟",
    "mobile": "139 1234 5678",
    "credit_code": "91320281 ma1w6xkq0t",
}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32) + b"\xff\xd9"
ENTERPRISE_DOCUMENTS = ("business_licence", "qualification", "integrity_pledge")


def register(client: TestClient, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = client.post("/api/customers", json={**ENTERPRISE, **changes}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def upload(
    client: TestClient,
    headers: dict[str, str],
    customer_id: int,
    kind: str,
    content: bytes = PDF,
    filename: str = "材料.pdf",
    content_type: str = "application/pdf",
    conversation_id: str | None = CONVERSATION,
) -> Any:
    params = {"conversation_id": conversation_id} if conversation_id else {}
    return client.post(
        f"/api/customers/{customer_id}/documents",
        headers=headers,
        params=params,
        data={"kind": kind},
        files={"file": (filename, content, content_type)},
    )


def verified_enterprise(client: TestClient, bot: dict[str, str], staff: dict[str, str]) -> int:
    customer_id = int(register(client, bot)["id"])
    for kind in ENTERPRISE_DOCUMENTS:
        assert upload(client, bot, customer_id, kind).status_code == 201
    review = client.post(
        f"/api/customers/{customer_id}/verification",
        json={},
        headers=bot,
        params={"conversation_id": CONVERSATION},
    ).json()
    decided = client.post(
        f"/api/customers/reviews/{review['id']}/decision",
        headers=staff,
        json={"decision": "approved"},
    )
    assert decided.status_code == 200, decided.text
    return customer_id


def test_bot_registers_an_enterprise_for_its_conversation(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    body = register(client, service_headers)
    assert body["kind"] == "enterprise" and body["kind_label"] == "企业用户"
    assert body["verification"] == "unverified" and body["conversation_ids"] == [CONVERSATION]
    # the bot gets personal numbers masked; staff see them in full
    assert body["mobile"] == "139****5678"
    assert body["credit_code"] == "91**************0T"
    staff = staff_headers(client)
    full = client.get(f"/api/customers/{body['id']}", headers=staff).json()
    assert full["mobile"] == "13912345678" and full["credit_code"] == CREDIT_CODE

    mine = client.get(
        f"/api/customers/{body['id']}",
        headers=service_headers,
        params={"conversation_id": CONVERSATION},
    )
    assert mine.status_code == 200
    found = client.get(f"/api/customers/by-conversation/{CONVERSATION}", headers=service_headers)
    assert found.json()["id"] == body["id"]
    # another conversation, or none, does not see the enterprise
    for params in ({"conversation_id": "web:someone-else"}, {}):
        other = client.get(f"/api/customers/{body['id']}", headers=service_headers, params=params)
        assert other.status_code == 404 and other.json()["detail"]["message"] == "未找到该用户。"
    assert (
        client.get("/api/customers/by-conversation/web:nobody", headers=service_headers).status_code
        == 404
    )
    # only staff list customers
    assert client.get("/api/customers", headers=service_headers).status_code == 403
    listed = client.get("/api/customers", headers=staff, params={"kind": "enterprise"}).json()
    assert [c["name"] for c in listed["items"]] == ["江阴远澄线缆有限公司"]
    expert = staff_headers(client, role="expert")
    assert client.get(f"/api/customers/{body['id']}", headers=expert).status_code == 403


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"credit_code": CREDIT_CODE[:-1] + "U"}, "credit_code", "校验位不正确"),
        ({"credit_code": "9132028"}, "credit_code", "18位"),
        ({"credit_code": None}, "credit_code", "企业用户须填写统一社会信用代码"),
        ({"mobile": "12345678901"}, "mobile", "手机号码"),
        ({"kind": "机构"}, "kind", "用户类型应为：普通用户、企业用户"),
        (
            {"kind": "individual", "credit_code": None, "id_number": "320281199003071234"},
            "id_number",
            "身份证号码校验位不正确",
        ),
        ({"name": "  "}, "name", "名称"),
    ],
)
def test_invalid_registration_gets_chinese_422_and_writes_nothing(
    client: TestClient,
    service_headers: dict[str, str],
    changes: dict[str, Any],
    field: str,
    words: str,
) -> None:
    response = client.post(
        "/api/customers", json={**ENTERPRISE, **changes}, headers=service_headers
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["code"] == "invalid_input" and words in detail["message"]
    assert detail["errors"][0]["field"] == f"body.{field}"
    assert client.get("/api/customers", headers=staff_headers(client)).json()["items"] == []


def test_an_individual_registers_with_an_id_number(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    body = register(
        client, service_headers, kind="普通用户", name="李娜", credit_code=None, id_number=ID_NUMBER
    )
    assert body["kind"] == "individual" and body["id_number"] == "32**************3X"
    assert (
        client.get(f"/api/customers/{body['id']}", headers=staff_headers(client)).json()[
            "id_number"
        ]
        == ID_NUMBER
    )
    changed = client.patch(
        f"/api/customers/{body['id']}",
        headers=service_headers,
        params={"conversation_id": CONVERSATION},
        json={"mobile": "13800001111", "name": "李娜娜"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["mobile"] == "138****1111" and changed.json()["name"] == "李娜娜"
    # §7.1.1.3: an ordinary user is reviewed on the scan of the ID card
    missing = client.post(
        f"/api/customers/{body['id']}/verification",
        json={},
        headers=service_headers,
        params={"conversation_id": CONVERSATION},
    )
    assert missing.status_code == 422 and "身份证扫描件" in missing.json()["detail"]["message"]
    assert (
        upload(
            client, service_headers, body["id"], "id_card", PNG, "id.png", "image/png"
        ).status_code
        == 201
    )
    submitted = client.post(
        f"/api/customers/{body['id']}/verification",
        json={},
        headers=service_headers,
        params={"conversation_id": CONVERSATION},
    )
    assert submitted.status_code == 201, submitted.text


def test_one_credit_code_and_one_conversation_register_once(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    register(client, service_headers)
    again = client.post(
        "/api/customers",
        headers=service_headers,
        json={**ENTERPRISE, "conversation_id": "web:customer-0002"},
    )
    assert again.status_code == 409 and again.json()["detail"]["code"] == "credit_code_taken"
    same_chat = client.post(
        "/api/customers",
        headers=service_headers,
        json={**ENTERPRISE, "credit_code": OTHER_CREDIT_CODE},
    )
    assert same_chat.status_code == 409
    assert same_chat.json()["detail"]["code"] == "conversation_linked"
    no_chat = client.post(
        "/api/customers",
        headers=service_headers,
        json={**ENTERPRISE, "conversation_id": None, "credit_code": OTHER_CREDIT_CODE},
    )
    assert no_chat.status_code == 422
    assert no_chat.json()["detail"]["code"] == "conversation_required"


def test_staff_link_a_customer_to_more_conversations(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    customer_id = register(client, service_headers)["id"]
    staff = staff_headers(client)
    linked = client.post(
        f"/api/customers/{customer_id}/conversations",
        headers=staff,
        json={"conversation_id": "wx:oAbC123openid"},
    )
    assert linked.status_code == 200, linked.text
    assert set(linked.json()["conversation_ids"]) == {CONVERSATION, "wx:oAbC123openid"}
    assert (
        client.get(
            f"/api/customers/{customer_id}",
            headers=service_headers,
            params={"conversation_id": "wx:oAbC123openid"},
        ).status_code
        == 200
    )
    # the bot cannot attach a conversation to someone else's record
    assert (
        client.post(
            f"/api/customers/{customer_id}/conversations",
            headers=service_headers,
            json={"conversation_id": "web:intruder"},
        ).status_code
        == 403
    )
    other = client.post(
        "/api/customers",
        headers=staff,
        json={
            **ENTERPRISE,
            "conversation_id": None,
            "credit_code": OTHER_CREDIT_CODE,
            "name": "无锡另一家有限公司",
        },
    ).json()
    taken = client.post(
        f"/api/customers/{other['id']}/conversations",
        headers=staff,
        json={"conversation_id": "wx:oAbC123openid"},
    )
    assert taken.status_code == 409
    assert (
        client.delete(
            f"/api/customers/{customer_id}/conversations/wx:oAbC123openid", headers=staff
        ).status_code
        == 204
    )
    assert (
        client.get(
            f"/api/customers/{customer_id}",
            headers=service_headers,
            params={"conversation_id": "wx:oAbC123openid"},
        ).status_code
        == 404
    )


def test_verification_review_within_three_working_days(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    customer_id = register(client, service_headers)["id"]
    bot_params = {"conversation_id": CONVERSATION}
    upload(client, service_headers, customer_id, "business_licence")
    upload(client, service_headers, customer_id, "qualification", JPEG, "资质.jpg", "image/jpeg")
    missing = client.post(
        f"/api/customers/{customer_id}/verification",
        json={},
        headers=service_headers,
        params=bot_params,
    )
    assert missing.status_code == 422
    assert missing.json()["detail"] == {
        "code": "documents_missing",
        "message": "缺少以下材料：诚信承诺书，请上传后再提交审核。",
    }
    assert upload(client, service_headers, customer_id, "integrity_pledge").status_code == 201

    submitted = client.post(
        f"/api/customers/{customer_id}/verification",
        json={},
        headers=service_headers,
        params=bot_params,
    )
    assert submitted.status_code == 201, submitted.text
    review = submitted.json()
    assert review["status"] == "pending" and review["kind_label"] == "注册审核"
    assert len(review["document_ids"]) == 3 and not review["overdue"]
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        due = load_calendar(session).add_working_days(today(), REVIEW_WORKING_DAYS)
    assert review["review_due"] == due.isoformat()
    again = client.post(
        f"/api/customers/{customer_id}/verification",
        json={},
        headers=service_headers,
        params=bot_params,
    )
    assert again.status_code == 409 and again.json()["detail"]["code"] == "review_pending"
    renamed = client.patch(
        f"/api/customers/{customer_id}",
        headers=service_headers,
        params=bot_params,
        json={"name": "江阴远澄新材料有限公司"},
    )
    assert renamed.status_code == 409 and "审核中" in renamed.json()["detail"]["message"]

    staff = staff_headers(client)
    queue = client.get("/api/customers/reviews", headers=staff, params={"status": "pending"})
    assert [r["id"] for r in queue.json()["items"]] == [review["id"]]
    decision_url = f"/api/customers/reviews/{review['id']}/decision"
    assert (
        client.post(
            decision_url, headers=service_headers, json={"decision": "approved"}
        ).status_code
        == 403
    )
    no_reason = client.post(decision_url, headers=staff, json={"decision": "rejected"})
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"]["code"] == "reason_required"
    rejected = client.post(
        decision_url, headers=staff, json={"decision": "rejected", "reason": "资质证书已过期"}
    )
    assert rejected.status_code == 200 and rejected.json()["status_label"] == "未通过"
    assert (
        client.post(decision_url, headers=staff, json={"decision": "approved"}).status_code == 409
    )
    assert (
        client.get(f"/api/customers/{customer_id}", headers=staff).json()["verification"]
        == "rejected"
    )

    # §7.1.1.5: materials completed and submitted again
    upload(client, service_headers, customer_id, "qualification")
    second = client.post(
        f"/api/customers/{customer_id}/verification",
        json={},
        headers=service_headers,
        params=bot_params,
    ).json()
    approved = client.post(
        f"/api/customers/reviews/{second['id']}/decision",
        headers=staff,
        json={"decision": "approved"},
    )
    assert approved.json()["reviewer"] == "staff.user"
    customer = client.get(
        f"/api/customers/{customer_id}", headers=service_headers, params=bot_params
    ).json()
    assert customer["verification"] == "approved" and customer["verification_label"] == "已通过"
    history = client.get(
        f"/api/customers/{customer_id}/reviews", headers=service_headers, params=bot_params
    ).json()["items"]
    assert [(r["status"], r["reason"]) for r in history] == [
        ("approved", None),
        ("rejected", "资质证书已过期"),
    ]

    with get_sessionmaker(app_settings.database_url)() as session:
        entries = entries_for(session, subject=f"customer:{customer_id}")
    actions = [e.action for e in entries]
    assert actions[0] == "customer.create" and actions.count("document.upload") == 4
    assert actions.count("customer.submit_registration") == 2
    assert actions.count("customer.review") == 2
    assert all(
        CREDIT_CODE not in str(e.details) and "13912345678" not in str(e.details) for e in entries
    )


def test_review_due_counts_working_days_across_a_holiday_and_flags_overdue(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    customer_id = register(client, service_headers)["id"]
    for kind in ENTERPRISE_DOCUMENTS:
        upload(client, service_headers, customer_id, kind)
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        # Wed 2026-09-30: Oct 1–7 National Day, Thu 8 and Fri 9 work, Sat 10 is a 调休 workday
        review = reviews.submit_registration(
            session,
            customer_id=customer_id,
            document_ids=None,
            today=date(2026, 9, 30),
            actor="bot",
        )
        assert review.review_due == date(2026, 10, 10)
        assert not reviews.review_public(review, today=date(2026, 10, 10)).overdue
        assert reviews.review_public(review, today=date(2026, 10, 11)).overdue
        session.execute(update(CustomerReview).values(review_due=today() - timedelta(days=1)))
        session.commit()
    overdue = client.get(
        "/api/customers/reviews", headers=staff_headers(client), params={"overdue": "true"}
    ).json()["items"]
    assert [(r["customer_id"], r["overdue"]) for r in overdue] == [(customer_id, True)]


def test_one_month_before_clamps_to_the_end_of_the_month() -> None:
    assert reviews.one_month_before(date(2026, 3, 31)) == date(2026, 2, 28)
    assert reviews.one_month_before(date(2024, 3, 31)) == date(2024, 2, 29)
    assert reviews.one_month_before(date(2026, 1, 15)) == date(2025, 12, 15)


def test_name_change_within_one_month_of_the_change(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    staff = staff_headers(client)
    customer_id = verified_enterprise(client, service_headers, staff)
    url = f"/api/customers/{customer_id}/name-changes"
    params = {"conversation_id": CONVERSATION}
    late = client.post(
        url,
        headers=service_headers,
        params=params,
        json={
            "new_name": "江阴远澄新材料有限公司",
            "changed_on": (today() - timedelta(days=40)).isoformat(),
        },
    )
    assert late.status_code == 422
    assert late.json()["detail"]["code"] == "name_change_late"
    assert "已超过1个月" in late.json()["detail"]["message"]
    # a direct edit of a verified enterprise's name is refused: it goes through review
    direct = client.patch(
        f"/api/customers/{customer_id}", headers=staff, json={"name": "江阴远澄新材料有限公司"}
    )
    assert direct.status_code == 422
    assert direct.json()["detail"]["code"] == "name_change_required"

    upload(client, service_headers, customer_id, "business_licence", PNG, "新执照.png", "image/png")
    upload(client, service_headers, customer_id, "change_notice")
    submitted = client.post(
        url,
        headers=service_headers,
        params=params,
        json={
            "new_name": "江阴远澄新材料有限公司",
            "changed_on": (today() - timedelta(days=10)).isoformat(),
        },
    )
    assert submitted.status_code == 201, submitted.text
    review = submitted.json()
    assert review["kind"] == "name_change" and review["new_name"] == "江阴远澄新材料有限公司"
    assert len(review["document_ids"]) == 2
    approved = client.post(
        f"/api/customers/reviews/{review['id']}/decision",
        headers=staff,
        json={"decision": "approved"},
    )
    assert approved.status_code == 200
    customer = client.get(f"/api/customers/{customer_id}", headers=staff).json()
    assert customer["name"] == "江阴远澄新材料有限公司" and customer["verification"] == "approved"
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        entries = entries_for(session, subject=f"customer:{customer_id}")
        last = [e for e in entries if e.action == "customer.review"][-1]
        assert last.details["old_name"] == "江阴远澄线缆有限公司"
        # the one-month limit at a month's end: 31 March allows back to 28 February
        reviews.submit_name_change(
            session,
            customer_id=customer_id,
            new_name="江阴远澄集团",
            changed_on=date(2026, 2, 28),
            document_ids=None,
            today=date(2026, 3, 31),
            actor="bot",
        )
        with pytest.raises(InvalidInput, match="超过1个月"):
            reviews.submit_name_change(
                session,
                customer_id=customer_id,
                new_name="江阴远澄",
                changed_on=date(2026, 2, 27),
                document_ids=None,
                today=date(2026, 3, 31),
                actor="bot",
            )


def test_only_enterprises_change_names(client: TestClient, service_headers: dict[str, str]) -> None:
    body = register(client, service_headers, kind="individual", name="李娜", credit_code=None)
    response = client.post(
        f"/api/customers/{body['id']}/name-changes",
        headers=service_headers,
        params={"conversation_id": CONVERSATION},
        json={"new_name": "李娜娜", "changed_on": today().isoformat()},
    )
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == "enterprise_only"
    future = client.post(
        f"/api/customers/{body['id']}/name-changes",
        headers=service_headers,
        params={"conversation_id": CONVERSATION},
        json={"new_name": "", "changed_on": "2026-13-01"},
    )
    assert future.status_code == 422
    message = future.json()["detail"]["message"]
    assert "新名称" in message and "变更日期" in message


def test_records_follow_the_customer_across_linked_conversations(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    customer_id = register(client, service_headers)["id"]
    assert (
        client.post(
            f"/api/customers/{customer_id}/conversations",
            headers=staff_headers(client),
            json={"conversation_id": "wx:oLinked0001"},
        ).status_code
        == 200
    )
    demand = client.post(
        "/api/demands",
        headers=service_headers,
        json={
            "conversation_id": "wx:oLinked0001",
            "channel": "wechat",
            "need_text": "压力表检定",
            "product": "压力表",
            "place": "无锡市新吴区",
            "contact_name": "张伟",
            "contact_mobile": "13912345678",
        },
    ).json()
    complaint = client.post(
        "/api/complaints",
        headers=service_headers,
        json={
            "conversation_id": "wx:oLinked0001",
            "institution_name": "某检测公司",
            "complaint_type": "收费",
            "content": "收费与报价不一致",
        },
    ).json()

    def seen_from(conversation_id: str) -> tuple[list[str], list[str], int]:
        params = {"conversation_id": conversation_id}
        demands = client.get("/api/demands", params=params, headers=service_headers).json()
        complaints = client.get("/api/complaints", params=params, headers=service_headers).json()
        one = client.get(f"/api/demands/{demand['number']}", params=params, headers=service_headers)
        return (
            [d["number"] for d in demands["items"]],
            [c["number"] for c in complaints["items"]],
            one.status_code,
        )

    # the web conversation of the same enterprise sees what it opened on WeChat
    assert seen_from(CONVERSATION) == ([demand["number"]], [complaint["number"]], 200)
    # a conversation of nobody in particular sees nothing of it
    assert seen_from("web:stranger-0001") == ([], [], 404)
