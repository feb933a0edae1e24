"""Search test with its scores, standards withdrawn and held back, the review queue."""

from fastapi.testclient import TestClient

from app.settings import AppSettings
from desk.audit import entries_for
from desk.consultations.models import KnowledgeDraft
from knowledge.store import load_knowledge
from retrieval.search import LEXICAL_WEIGHT
from tests.desk.console import make_user, session_for

URL = "/api/knowledge"


def test_search_test_shows_dense_lexical_and_fused_scores(
    kclient: TestClient, staff: dict[str, str]
) -> None:
    response = kclient.post(f"{URL}/search-test", headers=staff, json={"q": "压力表校准", "k": 3})
    assert response.status_code == 200, response.text
    kinds = {k["kind"]: k for k in response.json()["kinds"]}
    assert set(kinds) == {"service", "institution", "faq"}
    top = kinds["service"]["hits"][0]
    assert top["id"].startswith("6.1.") and top["served"] is True
    for group in kinds.values():
        for hit in group["hits"]:
            assert abs(hit["score"] - (hit["dense"] + LEXICAL_WEIGHT * hit["lexical"])) < 2e-4
            assert hit["served"] == (hit["score"] >= group["threshold"])
    assert top["lexical"] > 0


def test_withdrawing_a_standard_holds_its_entries_back(
    kclient: TestClient, staff: dict[str, str]
) -> None:
    listed = kclient.get(f"{URL}/standards", headers=staff).json()["items"]
    code = "GB/T 19001-2016"
    standard = next(s for s in listed if s["code"] == code)
    citing = [e["id"] for e in standard["entries"]]
    assert citing and standard["withdrawn"] is None and standard["held_back"] is False
    title = kclient.get(f"{URL}/entries/{citing[0]}", headers=staff).json()["title"]
    kind = kclient.get(f"{URL}/entries/{citing[0]}", headers=staff).json()["kind"]
    assert citing[0] in [
        r["id"]
        for r in kclient.get("/api/search", params={"q": title, "kind": kind}).json()["results"]
    ]

    response = kclient.post(
        f"{URL}/standards/withdraw", headers=staff, json={"code": code, "withdrawn": "2025-01-01"}
    )
    assert response.status_code == 200, response.text
    assert sorted(response.json()["changed"]) == sorted([*citing, "std-gbt-19001-2016"])
    job = kclient.get(f"{URL}/publish/{response.json()['job_id']}", headers=staff).json()
    assert job["status"] == "done"

    served = kclient.get("/api/search", params={"q": title, "kind": kind}).json()["results"]
    assert citing[0] not in [r["id"] for r in served]
    tested = kclient.post(f"{URL}/search-test", headers=staff, json={"q": title, "kinds": [kind]})
    flagged = [h for h in tested.json()["kinds"][0]["hits"] if h["id"] == citing[0]]
    assert flagged and flagged[0]["under_review"] is True and flagged[0]["served"] is False
    queue = kclient.get(f"{URL}/review", headers=staff).json()["due"]
    held = {i["entry_id"]: i for i in queue if i["withheld"]}
    assert set(citing) <= set(held)
    assert any("已于 2025-01-01 废止" in r for r in held[citing[0]]["reasons"])
    after = next(
        s
        for s in kclient.get(f"{URL}/standards", headers=staff).json()["items"]
        if s["code"] == code
    )
    assert after["held_back"] is True and all(e["under_review"] for e in after["entries"])
    history = kclient.get(f"{URL}/entries/{citing[0]}/history", headers=staff).json()["items"]
    assert history[0]["note"] == f"标准 {code} 废止于 2025-01-01"


def test_review_queue_approve_with_edits_or_dismiss(
    kclient: TestClient, staff: dict[str, str], app_settings: AppSettings
) -> None:
    make_user(kclient, "qian.expert")
    with session_for(app_settings) as session:
        session.add(
            KnowledgeDraft(
                question="计量器具强制检定要多久出证书？",
                answer="一般5个工作日内出具检定证书。",
                author="qian.expert",
            )
        )
        session.commit()
    made = kclient.post(
        f"{URL}/drafts",
        headers=staff,
        json={"question": "周末可以办理吗？", "answer": "站点周六上午有值班人员。"},
    )
    assert made.status_code == 201
    drafts = kclient.get(f"{URL}/review", headers=staff).json()["drafts"]
    assert [d["author"] for d in drafts] == ["qian.expert", "staff.user"]
    expert_draft, staff_draft = drafts
    payload = expert_draft["suggestion"] | {
        "answer": "一般5个工作日内出具检定证书，加急可3个工作日（已核实）。",
        "id": "faq-verification-certificate-days",
    }
    approved = kclient.post(
        f"{URL}/drafts/{expert_draft['id']}/approve", headers=staff, json={"payload": payload}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["version"] == 1
    entry = kclient.get(f"{URL}/entries/faq-verification-certificate-days", headers=staff).json()
    assert entry["pending"] is False  # the approval's publish job ran
    twice = kclient.post(
        f"{URL}/drafts/{expert_draft['id']}/approve", headers=staff, json={"payload": payload}
    )
    assert twice.status_code == 409 and twice.json()["detail"]["code"] == "draft_decided"
    tested = kclient.post(
        f"{URL}/search-test", headers=staff, json={"q": "强制检定证书要多久", "kinds": ["faq"]}
    ).json()
    assert tested["kinds"][0]["hits"][0]["id"] == "faq-verification-certificate-days"

    no_reason = kclient.post(f"{URL}/drafts/{staff_draft['id']}/dismiss", headers=staff, json={})
    assert no_reason.status_code == 422
    dismissed = kclient.post(
        f"{URL}/drafts/{staff_draft['id']}/dismiss", headers=staff, json={"reason": "已有同类问答"}
    )
    assert dismissed.status_code == 204
    assert kclient.get(f"{URL}/review", headers=staff).json()["drafts"] == []
    with session_for(app_settings) as session:
        draft = session.get(KnowledgeDraft, staff_draft["id"])
        assert draft is not None and (draft.status, draft.reason) == ("dismissed", "已有同类问答")
        actions = [e.action for e in entries_for(session, subject=f"draft-{expert_draft['id']}")]
    assert actions == ["knowledge.draft_approve"]
    assert load_knowledge().get("faq-verification-certificate-days") is None  # YAML untouched
