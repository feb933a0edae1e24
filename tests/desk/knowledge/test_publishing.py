"""Publishing is live: a publish job brings the index to the database, every reader of the
knowledge sees it without restart, two publishes at once both land (SQLite and PostgreSQL)."""

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.settings import AppSettings
from desk.complaints.service import published_institutions
from desk.knowledge import publishing
from knowledge.store import load_knowledge
from retrieval.index import open_version, read_manifest
from retrieval.live import live_knowledge
from retrieval.recommend import answer_faq
from retrieval.settings import RetrievalSettings
from tests.desk.console import session_for

URL = "/api/knowledge"
NEW_ANSWER = "注册时请上传营业执照扫描件，审核一般在1个工作日内完成（测试修改）。"


def _edit(client: TestClient, headers: dict[str, str], entry_id: str, **fields: Any) -> None:
    current = client.get(f"{URL}/entries/{entry_id}", headers=headers).json()
    body = {"payload": current["payload"] | fields, "expected_version": current["version"]}
    response = client.put(f"{URL}/entries/{entry_id}", headers=headers, json=body)
    assert response.status_code == 200, response.text


def test_publish_reaches_search_faq_answers_and_live_readers(
    kclient: TestClient, staff: dict[str, str], index_copy: RetrievalSettings
) -> None:
    faq = load_knowledge().faqs[0]
    question = faq.title
    assert answer_faq(question, settings=index_copy).answer == faq.answer  # type: ignore[union-attr]
    _edit(kclient, staff, faq.id, answer=NEW_ANSWER)
    # saved, not yet served
    assert answer_faq(question, settings=index_copy).answer == faq.answer  # type: ignore[union-attr]
    before = read_manifest(index_copy.index_dir)

    started = kclient.post(f"{URL}/publish", headers=staff, json={})
    assert started.status_code == 201, started.text
    job = kclient.get(f"{URL}/publish/{started.json()['id']}", headers=staff).json()
    assert (job["status"], job["done"], job["total"]) == ("done", 2, 2)
    assert job["entry_ids"] == [faq.id] and job["status_label"] == "已发布"

    after = read_manifest(index_copy.index_dir)
    assert after is not None and before is not None and after.version != before.version
    assert after.source == "database" and job["index_version"] == after.version
    assert answer_faq(question, settings=index_copy).answer == NEW_ANSWER  # type: ignore[union-attr]
    assert live_knowledge(index_copy, interval_s=0).get(faq.id).answer == NEW_ANSWER  # type: ignore[union-attr]
    entry = kclient.get(f"{URL}/entries/{faq.id}", headers=staff).json()
    assert entry["pending"] is False
    again = kclient.post(f"{URL}/publish", headers=staff, json={})
    assert again.status_code == 409 and again.json()["detail"]["code"] == "nothing_to_publish"


def test_withdrawn_institution_leaves_search_and_the_complaint_matcher(
    kclient: TestClient, staff: dict[str, str]
) -> None:
    institution = load_knowledge().institutions[0]
    assert institution.id in {i.id for i in published_institutions()}
    response = kclient.post(
        f"{URL}/entries/{institution.id}/status", headers=staff, json={"status": "withdrawn"}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["pending"]) == ("withdrawn", True)
    # the transition started a publish job (run before the test client returns)
    entry = kclient.get(f"{URL}/entries/{institution.id}", headers=staff).json()
    assert entry["pending"] is False
    found = kclient.get("/api/search", params={"q": institution.title, "kind": "institution"})
    assert institution.id not in [r["id"] for r in found.json()["results"]]
    assert institution.id not in {i.id for i in published_institutions()}


def test_two_publishes_at_once_both_land(
    kclient: TestClient,
    staff: dict[str, str],
    index_copy: RetrievalSettings,
    app_settings: AppSettings,
) -> None:
    faqs = load_knowledge().faqs
    first, second = faqs[3], faqs[4]
    _edit(kclient, staff, first.id, answer="第一位工作人员修改的答案。")
    _edit(kclient, staff, second.id, answer="第二位工作人员修改的答案。")
    assert app_settings.database_url
    jobs = []
    with session_for(app_settings) as session:
        for entry_id in (first.id, second.id):
            job, created = publishing.create_job(
                session, actor="staff.user", settings=index_copy, entry_ids=[entry_id]
            )
            assert created
            jobs.append(job.id)
    threads = [
        threading.Thread(
            target=publishing.run_job, args=(app_settings.database_url, job_id, index_copy)
        )
        for job_id in jobs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    states = [kclient.get(f"{URL}/publish/{j}", headers=staff).json() for j in jobs]
    assert [s["status"] for s in states] == ["done", "done"]
    assert states[0]["index_version"] != states[1]["index_version"]
    version = open_version(index_copy.index_dir)  # the live version opens whole
    assert version is not None and version.knowledge is not None
    assert version.knowledge.get(first.id).answer == "第一位工作人员修改的答案。"  # type: ignore[union-attr]
    assert version.knowledge.get(second.id).answer == "第二位工作人员修改的答案。"  # type: ignore[union-attr]
    assert len(version.indexes["faq"]) == len(faqs)
    listing = kclient.get(f"{URL}/publish", headers=staff).json()
    assert listing["pending"] == []


def test_a_job_left_open_by_a_stopped_process_does_not_block(
    kclient: TestClient,
    staff: dict[str, str],
    index_copy: RetrievalSettings,
    app_settings: AppSettings,
) -> None:
    faq = load_knowledge().faqs[6]
    _edit(kclient, staff, faq.id, answer="重启前修改的答案。")
    with session_for(app_settings) as session:
        stuck, _ = publishing.create_job(
            session, actor="staff.user", settings=index_copy, entry_ids=[faq.id]
        )
        stuck.status = "running"
        stuck.started_at = datetime.now(UTC) - timedelta(minutes=30)  # its process stopped
        session.commit()
    started = kclient.post(f"{URL}/publish", headers=staff, json={})
    assert started.status_code == 201, started.text
    assert started.json()["id"] != stuck.id
    assert (
        kclient.get(f"{URL}/publish/{started.json()['id']}", headers=staff).json()["status"]
        == "done"
    )
    old = kclient.get(f"{URL}/publish/{stuck.id}", headers=staff).json()
    assert (old["status"], old["error"]) == ("failed", "发布中断（服务曾重启），请重新发布。")
