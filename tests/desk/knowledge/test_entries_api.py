"""Entries in the database: the seed, versions with a field-level diff, history and restore,
per-field errors, status transitions, roles and the audit log (SQLite and PostgreSQL)."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.settings import AppSettings
from desk.audit import entries_for
from desk.knowledge.models import KnowledgeEntry, KnowledgeEntryVersion
from knowledge.store import load_knowledge
from tests.desk.console import make_user, session_for

URL = "/api/knowledge/entries"


def _get(client: TestClient, headers: dict[str, str], entry_id: str) -> dict[str, Any]:
    response = client.get(f"{URL}/{entry_id}", headers=headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _put(
    client: TestClient, headers: dict[str, str], entry_id: str, **fields: Any
) -> dict[str, Any]:
    current = _get(client, headers, entry_id)
    body = {"payload": current["payload"] | fields, "expected_version": current["version"]}
    response = client.put(f"{URL}/{entry_id}", headers=headers, json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_fresh_install_loads_the_sample_as_version_one(
    kclient: TestClient, staff: dict[str, str], app_settings: AppSettings
) -> None:
    sample = load_knowledge()
    page = kclient.get(URL, headers=staff, params={"kind": "faq", "limit": 5}).json()
    assert page["total"] == len(sample.faqs)
    assert [i["id"] for i in page["items"]] == sorted(f.id for f in sample.faqs)[:5]
    assert page["pending"] == 0  # the index already serves exactly the sample
    assert all(i["version"] == 1 and not i["pending"] for i in page["items"])
    with session_for(app_settings) as session:
        assert session.scalar(select(func.count()).select_from(KnowledgeEntry)) == len(sample)
        seeded = session.scalars(select(KnowledgeEntryVersion.actor).distinct()).all()
        assert seeded == ["seed"]
    again = kclient.get(URL, headers=staff).json()  # a second request seeds nothing more
    assert again["total"] == len(sample)


def test_each_change_is_a_version_with_history_and_restore(
    kclient: TestClient, staff: dict[str, str], app_settings: AppSettings
) -> None:
    faq = load_knowledge().faqs[0]
    changed = _put(kclient, staff, faq.id, answer="新的答案：请携带营业执照到窗口办理。")
    assert (changed["version"], changed["pending"]) == (2, True)
    same = kclient.put(
        f"{URL}/{faq.id}",
        headers=staff,
        json={"payload": changed["payload"], "expected_version": 2},
    )
    assert same.json()["version"] == 2  # a second click saves no third version
    stale = kclient.put(
        f"{URL}/{faq.id}",
        headers=staff,
        json={"payload": changed["payload"] | {"title": "另一个标题？"}, "expected_version": 1},
    )
    assert stale.status_code == 409 and stale.json()["detail"]["code"] == "version_conflict"

    history = kclient.get(f"{URL}/{faq.id}/history", headers=staff).json()["items"]
    assert [v["number"] for v in history] == [2, 1]
    assert history[0]["actor"] == "staff.user" and history[0]["summary"] == "修改了答案"
    assert history[0]["changes"] == [
        {
            "field": "answer",
            "label": "答案",
            "before": history[0]["changes"][0]["before"],
            "after": "新的答案：请携带营业执照到窗口办理。",
        }
    ]
    assert history[0]["changes"][0]["before"].startswith(faq.answer.split()[0][:10])

    restored = kclient.post(f"{URL}/{faq.id}/restore", headers=staff, json={"number": 1})
    assert restored.status_code == 200, restored.text
    assert restored.json()["version"] == 3
    assert restored.json()["payload"]["answer"] == faq.answer
    assert restored.json()["pending"] is False  # equal to what the index serves again
    history = kclient.get(f"{URL}/{faq.id}/history", headers=staff).json()["items"]
    assert (history[0]["action"], history[0]["note"]) == ("restore", "恢复为第 1 版")
    with session_for(app_settings) as session:
        actions = [e.action for e in entries_for(session, subject=faq.id)]
    assert actions == ["knowledge.update", "knowledge.restore"]


def test_invalid_entry_answers_422_with_a_reason_per_field(
    kclient: TestClient, staff: dict[str, str]
) -> None:
    service = load_knowledge().services[0]
    payload = _get(kclient, staff, service.id)["payload"] | {
        "domain": "astrology",
        "example_queries": ["一", "二"],
        "description": "",
    }
    response = kclient.put(f"{URL}/{service.id}", headers=staff, json={"payload": payload})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["code"] == "entry_invalid"
    by_field = {e["field"]: e["message"] for e in detail["errors"]}
    assert set(by_field) == {"domain", "example_queries", "description"}
    assert by_field["description"] == "字段 标准原文（description）不能为空"
    assert by_field["example_queries"] == "字段 问法示例（example_queries）至少需要 5 项"
    assert "取值无效" in by_field["domain"]
    assert _get(kclient, staff, service.id)["version"] == 1  # nothing saved

    new_faq = {
        "kind": "faq",
        "id": "faq-new-1",
        "title": "Where is the office?",
        "owner": "综合服务组",
        "review_due": "2027-06-30",
        "answer": "请到服务大厅咨询。",
    }
    refused = kclient.post(URL, headers=staff, json={"payload": new_faq})
    assert refused.status_code == 422
    assert "中文" in refused.json()["detail"]["message"]
    created = kclient.post(
        URL, headers=staff, json={"payload": new_faq | {"title": "办公地点在哪里？"}}
    )
    assert created.status_code == 201, created.text
    assert (created.json()["version"], created.json()["pending"]) == (1, True)
    taken = kclient.post(URL, headers=staff, json={"payload": new_faq | {"title": "再来一条？"}})
    assert taken.status_code == 422
    assert taken.json()["detail"]["errors"] == [
        {"field": "id", "message": "编号 faq-new-1 已被使用"}
    ]


def test_status_transitions_and_filters(kclient: TestClient, staff: dict[str, str]) -> None:
    faq = load_knowledge().faqs[1]
    skip = kclient.post(
        f"{URL}/{faq.id}/status", headers=staff, json={"status": "draft", "publish": False}
    )
    assert skip.status_code == 409
    assert (
        skip.json()["detail"]["message"] == "“已发布”的条目不能直接改为“草稿”（可改为：已撤下）。"
    )
    withdrawn = kclient.post(
        f"{URL}/{faq.id}/status", headers=staff, json={"status": "withdrawn", "publish": False}
    )
    assert withdrawn.status_code == 200
    assert (withdrawn.json()["status_label"], withdrawn.json()["pending"]) == ("已撤下", True)
    listed = kclient.get(URL, headers=staff, params={"status": "withdrawn"}).json()
    assert [i["id"] for i in listed["items"]] == [faq.id]
    pending = kclient.get(URL, headers=staff, params={"pending_only": True}).json()
    assert [i["id"] for i in pending["items"]] == [faq.id] and pending["pending"] == 1

    region = kclient.get(URL, headers=staff, params={"kind": "institution", "region": "江阴"})
    assert region.json()["total"] > 0
    assert all("江阴" in i["region"] for i in region.json()["items"])
    domain = kclient.get(URL, headers=staff, params={"kind": "service", "domain": "metrology"})
    assert {i["domain"] for i in domain.json()["items"]} == {"metrology"}
    cited = kclient.get(URL, headers=staff, params={"source": "GB/T 19001-2016"}).json()
    assert cited["total"] >= 1 and all("GB/T 19001-2016" in i["sources"] for i in cited["items"])
    searched = kclient.get(URL, headers=staff, params={"q": "营业执照", "kind": "faq"}).json()
    assert searched["total"] >= 1
    page2 = kclient.get(URL, headers=staff, params={"kind": "faq", "offset": 10, "limit": 10})
    assert page2.json()["offset"] == 10 and len(page2.json()["items"]) == 10


def test_experts_read_staff_write(kclient: TestClient, staff: dict[str, str]) -> None:
    expert = make_user(kclient, "zhao.expert")
    faq = load_knowledge().faqs[2]
    assert kclient.get(f"{URL}/{faq.id}", headers=expert).status_code == 200
    current = _get(kclient, expert, faq.id)
    refused = kclient.put(
        f"{URL}/{faq.id}", headers=expert, json={"payload": current["payload"] | {"answer": "x"}}
    )
    assert refused.status_code == 403
    assert kclient.post("/api/knowledge/publish", headers=expert, json={}).status_code == 403
    assert kclient.get(URL).status_code == 401


def test_an_answer_naming_a_section_the_platform_lacks_is_refused(
    kclient: TestClient, staff: dict[str, str]
) -> None:
    faq = load_knowledge().faqs[0]
    current = _get(kclient, staff, faq.id)
    payload = current["payload"] | {"answer": "请登录后进入“我的需求”栏目查看办理进度。"}
    refused = kclient.put(
        f"{URL}/{faq.id}",
        headers=staff,
        json={"payload": payload, "expected_version": current["version"]},
    )
    assert refused.status_code == 422, refused.text
    assert "我的需求" in refused.text  # the reason names what does not exist
    assert _get(kclient, staff, faq.id)["version"] == current["version"]  # nothing saved
    fine = _put(kclient, staff, faq.id, answer="在本对话中回复“查进度”并提供需求编号即可查询。")
    assert fine["version"] == current["version"] + 1
