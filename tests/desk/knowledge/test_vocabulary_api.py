"""The entry forms' choices come from the API: every value the schema accepts, labelled in
Chinese, the services labelled with their current titles (SQLite and PostgreSQL)."""

from fastapi.testclient import TestClient

from knowledge.constants import DOMAIN_LABELS, SERVICE_IDS
from knowledge.store import load_knowledge

URL = "/api/knowledge/vocabulary"


def test_the_forms_choices_cover_the_sample(kclient: TestClient, staff: dict[str, str]) -> None:
    response = kclient.get(URL, headers=staff)
    assert response.status_code == 200, response.text
    vocab = response.json()
    assert {o["value"]: o["label"] for o in vocab["domains"]} == DOMAIN_LABELS
    assert [o["value"] for o in vocab["services"]] == list(SERVICE_IDS)
    values = {key: {o["value"] for o in vocab[key]} for key in vocab}
    sample = load_knowledge()
    for inst in sample.institutions:
        assert inst.type in values["institution_types"]
        assert set(inst.service_modes) <= values["service_modes"]
        assert {q.kind for q in inst.qualifications} <= values["qualification_kinds"]
        assert set(inst.service_ids) <= values["services"]
    for station in sample.stations:
        assert station.type in values["station_types"]
    assert "检验检测机构" in values["institution_types"]
    assert "延时错时" in values["service_modes"]


def test_a_service_is_labelled_with_its_current_title(
    kclient: TestClient, staff: dict[str, str]
) -> None:
    entry = kclient.get("/api/knowledge/entries/6.1.2", headers=staff).json()
    body = {
        "payload": entry["payload"] | {"title": "计量校准服务（新名称）"},
        "expected_version": entry["version"],
    }
    assert kclient.put("/api/knowledge/entries/6.1.2", headers=staff, json=body).status_code == 200
    services = kclient.get(URL, headers=staff).json()["services"]
    assert {"value": "6.1.2", "label": "6.1.2 计量校准服务（新名称）"} in services


def test_the_vocabulary_needs_a_sign_in(kclient: TestClient) -> None:
    assert kclient.get(URL).status_code == 401
