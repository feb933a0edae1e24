"""The standards table in the knowledge database: seeded (also into an install seeded before the
kind existed), created and edited through the entries API with a reason per field, and the form's
status choices (SQLite and PostgreSQL)."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from app.settings import AppSettings
from desk.knowledge import service
from desk.knowledge.models import KnowledgeEntry, KnowledgeEntryVersion
from knowledge.store import load_knowledge
from tests.desk.console import session_for

URL = "/api/knowledge/entries"
NEW: dict[str, Any] = {
    "kind": "standard",
    "id": "std-gbt-1-1-2020",
    "code": "GB/T 1.1-2020",
    "title": "标准化工作导则 第1部分：标准化文件的结构和起草规则",
    "validity": "现行",
    "effective": "2020-10-01",
    "owner": "标准化服务组",
    "review_due": "2027-06-30",
}


def test_the_standards_are_seeded_and_listed(kclient: TestClient, staff: dict[str, str]) -> None:
    sample = load_knowledge().standards
    page = kclient.get(URL, headers=staff, params={"kind": "standard", "limit": 100}).json()
    assert page["total"] == len(sample) > 10
    assert {i["kind_label"] for i in page["items"]} == {"标准"}
    detail = kclient.get(f"{URL}/std-gbt-19001-2008", headers=staff).json()
    assert detail["payload"]["validity"] == "废止"
    assert detail["payload"]["replaced_by"] == "GB/T 19001-2016"


def test_an_install_seeded_before_the_standards_gets_them_once(
    kclient: TestClient, staff: dict[str, str], app_settings: AppSettings
) -> None:
    kclient.get(URL, headers=staff)  # seeds everything
    with session_for(app_settings) as session:
        ids = list(
            session.scalars(select(KnowledgeEntry.id).where(KnowledgeEntry.kind == "standard"))
        )
        session.execute(
            delete(KnowledgeEntryVersion).where(KnowledgeEntryVersion.entry_id.in_(ids))
        )
        session.execute(delete(KnowledgeEntry).where(KnowledgeEntry.id.in_(ids)))
        session.commit()
        assert service.ensure_seeded(session) == len(ids)
        assert service.ensure_seeded(session) == 0
        count = select(func.count()).select_from(KnowledgeEntry)
        assert session.scalar(count.where(KnowledgeEntry.kind == "standard")) == len(ids)


def test_a_standard_is_created_and_edited_with_reasons_per_field(
    kclient: TestClient, staff: dict[str, str]
) -> None:
    bad = NEW | {"validity": "废止", "effective": "2020-10-01", "withdrawn": "2019-01-01"}
    response = kclient.post(URL, headers=staff, json={"payload": bad})
    assert response.status_code == 422, response.text
    messages = " ".join(e["message"] for e in response.json()["detail"]["errors"])
    assert "废止日期早于实施日期" in messages
    response = kclient.post(URL, headers=staff, json={"payload": NEW | {"validity": "有效"}})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]["errors"]] == ["validity"]

    created = kclient.post(URL, headers=staff, json={"payload": NEW})
    assert created.status_code == 201, created.text
    entry = created.json()
    body = {
        "payload": entry["payload"]
        | {"validity": "废止", "withdrawn": "2026-01-01", "replaced_by": "GB/T 1.1-2026"},
        "expected_version": entry["version"],
    }
    changed = kclient.put(f"{URL}/{NEW['id']}", headers=staff, json=body)
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == entry["version"] + 1
    history = kclient.get(f"{URL}/{NEW['id']}/history", headers=staff).json()["items"]
    labels = {c["label"] for c in history[0]["changes"]}
    assert {"标准状态", "废止日期", "代替标准"} <= labels


def test_the_form_offers_the_three_statuses(kclient: TestClient, staff: dict[str, str]) -> None:
    vocab = kclient.get("/api/knowledge/vocabulary", headers=staff).json()
    assert [o["value"] for o in vocab["validities"]] == ["现行", "废止", "即将实施"]


def test_the_standards_page_lists_the_table_with_status_and_replacement(
    kclient: TestClient, staff: dict[str, str]
) -> None:
    listed = kclient.get("/api/knowledge/standards", headers=staff).json()["items"]
    by_code = {s["code"]: s for s in listed}
    old = by_code["GB/T 19001-2008"]  # in the table, cited by nothing
    assert (old["validity"], old["replaced_by"], old["entry_id"]) == (
        "废止",
        "GB/T 19001-2016",
        "std-gbt-19001-2008",
    )
    assert old["held_back"] is True and old["entries"] == []
    current = by_code["GB/T 19001-2016"]  # in the table and cited by services
    assert current["validity"] == "现行" and current["entries"]
    assert by_code["计量法（2018年修正）"]["validity"] is None  # cited, not in the table

    response = kclient.post(
        "/api/knowledge/standards/withdraw",
        headers=staff,
        json={"code": "GB/T 2828.1-2012", "withdrawn": "2026-01-01", "publish": False},
    )
    assert response.status_code == 200, response.text
    assert response.json()["changed"] == ["std-gbt-2828-1-2012"]
    row = kclient.get(f"{URL}/std-gbt-2828-1-2012", headers=staff).json()["payload"]
    assert (row["validity"], row["withdrawn"]) == ("废止", "2026-01-01")
    missing = kclient.post(
        "/api/knowledge/standards/withdraw",
        headers=staff,
        json={"code": "GB/T 99999-2099", "withdrawn": "2026-01-01"},
    )
    assert missing.status_code == 404
    assert "标准表中没有" in missing.json()["detail"]["message"]
