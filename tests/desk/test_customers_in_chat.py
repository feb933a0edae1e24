"""What registration in chat needs from the desk: a chat upload labelled by the bot, stored once;
no qualification certificate with a stated reason; a rejection that names the missing materials;
the result told to the applicant (or why not) kept on the review."""

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.settings import AppSettings
from desk.audit import entries_for
from desk.case_notices import CHANNELS_OFF
from desk.customers.models import CustomerReview
from desk.db import get_sessionmaker
from desk.uploads import service as uploads
from desk.uploads.models import Document

from .staff import staff_headers
from .test_customers import CONVERSATION, PDF, PNG, register, upload

MINE = {"conversation_id": CONVERSATION}


def _relabel(client: TestClient, headers: dict[str, str], customer_id: int, doc: int, kind: str):  # type: ignore[no-untyped-def]
    return client.patch(
        f"/api/customers/{customer_id}/documents/{doc}",
        json={"kind": kind},
        headers=headers,
        params=MINE,
    )


def test_the_bot_labels_a_chat_upload_until_it_is_under_review(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    customer_id = register(client, service_headers)["id"]
    other = upload(client, service_headers, customer_id, "other").json()
    labelled = _relabel(client, service_headers, customer_id, other["id"], "business_licence")
    assert labelled.status_code == 200, labelled.text
    assert labelled.json()["kind"] == "business_licence"
    assert labelled.json()["kind_label"] == "营业执照"
    # another conversation does not reach the customer's files; an unknown kind is refused
    stranger = client.patch(
        f"/api/customers/{customer_id}/documents/{other['id']}",
        json={"kind": "qualification"},
        headers=service_headers,
        params={"conversation_id": "web:stranger-01"},
    )
    assert stranger.status_code == 404
    bad = _relabel(client, service_headers, customer_id, other["id"], "passport")
    assert bad.status_code == 422
    # no qualification certificate: the enterprise says why, and the review goes ahead
    pledge = upload(client, service_headers, customer_id, "integrity_pledge", PNG, "承诺书.png")
    assert pledge.status_code == 201
    submitted = client.post(
        f"/api/customers/{customer_id}/verification",
        json={"qualification_note": "贸易公司，经营范围不涉及许可"},
        headers=service_headers,
        params=MINE,
    )
    assert submitted.status_code == 201, submitted.text
    review = submitted.json()
    assert review["qualification_note"] == "贸易公司，经营范围不涉及许可"
    assert review["conversation_id"] == CONVERSATION
    assert sorted(review["document_ids"]) == sorted([other["id"], pledge.json()["id"]])
    # under review, a document keeps its kind
    locked = _relabel(client, service_headers, customer_id, other["id"], "qualification")
    assert locked.status_code == 409
    assert locked.json()["detail"]["code"] == "document_locked"


def test_without_qualification_or_a_reason_the_review_is_refused(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    customer_id = register(client, service_headers)["id"]
    for kind in ("business_licence", "integrity_pledge"):
        assert upload(client, service_headers, customer_id, kind).status_code == 201
    refused = client.post(
        f"/api/customers/{customer_id}/verification",
        json={"qualification_note": "   "},
        headers=service_headers,
        params=MINE,
    )
    assert refused.status_code == 422
    assert "资质证书" in refused.json()["detail"]["message"]


def test_a_rejection_names_the_missing_materials_and_the_resubmission_is_a_new_review(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    staff = staff_headers(client)
    customer_id = register(client, service_headers)["id"]
    for kind in ("business_licence", "qualification", "integrity_pledge"):
        assert upload(client, service_headers, customer_id, kind).status_code == 201
    first = client.post(
        f"/api/customers/{customer_id}/verification", json={}, headers=service_headers, params=MINE
    ).json()
    # approving with missing materials makes no sense; rejecting names them
    odd = client.post(
        f"/api/customers/reviews/{first['id']}/decision",
        json={"decision": "approved", "missing_documents": ["integrity_pledge"]},
        headers=staff,
    )
    assert odd.status_code == 422
    rejected = client.post(
        f"/api/customers/reviews/{first['id']}/decision",
        json={
            "decision": "rejected",
            "reason": "诚信承诺书未加盖公章",
            "missing_documents": ["integrity_pledge"],
        },
        headers=staff,
    )
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert body["missing_documents"] == ["integrity_pledge"]
    assert body["missing_labels"] == ["诚信承诺书"]
    # the desk alone has no channels: the review says the applicant was not told, and why
    assert body["notice_how"] is None and body["notice_reason"] == CHANNELS_OFF
    # the bot reads the result in its conversation, uploads the new pledge and resubmits
    mine = client.get(
        f"/api/customers/{customer_id}/reviews", headers=service_headers, params=MINE
    ).json()["items"]
    assert mine[0]["status"] == "rejected" and mine[0]["reason"] == "诚信承诺书未加盖公章"
    new_pledge = upload(client, service_headers, customer_id, "integrity_pledge", PNG, "盖章.png")
    second = client.post(
        f"/api/customers/{customer_id}/verification", json={}, headers=service_headers, params=MINE
    )
    assert second.status_code == 201, second.text
    assert new_pledge.json()["id"] in second.json()["document_ids"]
    assert second.json()["id"] != first["id"] and second.json()["status"] == "pending"
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        rows = session.scalars(
            select(CustomerReview).where(CustomerReview.customer_id == customer_id)
        ).all()
        assert [r.status for r in rows] == ["rejected", "pending"]
        notices = [
            e
            for e in entries_for(session, subject=f"customer:{customer_id}")
            if e.action == "customer.review_notice"
        ]
        assert [n.details["reason"] for n in notices] == [CHANNELS_OFF]


def test_a_chat_upload_with_its_own_key_is_stored_once(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    customer_id = register(client, service_headers)["id"]
    root = Path(app_settings.var_dir) / "uploads"
    assert app_settings.database_url
    with get_sessionmaker(app_settings.database_url)() as session:
        ids = {
            uploads.store_document(
                session,
                customer_id=customer_id,
                kind="other",
                content=PDF,
                original_name="营业执照.pdf",
                root=root,
                max_bytes=1024 * 1024,
                actor="wechat",
                source_key="wx:msg:100200300",
            ).id
            for _ in range(3)
        }
        assert len(ids) == 1
        count = session.scalar(
            select(func.count()).select_from(Document).where(Document.customer_id == customer_id)
        )
        assert count == 1
    assert len([p for p in root.rglob("*") if p.is_file()]) == 1
