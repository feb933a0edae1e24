"""The public catalogue API (/api/catalogue…) through the app, on the real index and knowledge."""

import pytest
from fastapi.testclient import TestClient

from desk.catalogue import service as catalogue_service
from knowledge.store import load_knowledge
from retrieval import live as live_module
from retrieval import search as search_module
from retrieval.settings import RetrievalSettings

KB = load_knowledge()
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def api(
    client: TestClient, retrieval_settings: RetrievalSettings, monkeypatch: pytest.MonkeyPatch
) -> TestClient:
    for module in (search_module, live_module):
        monkeypatch.setattr(module, "get_settings", lambda: retrieval_settings)
    monkeypatch.setattr(catalogue_service, "get_retrieval_settings", lambda: retrieval_settings)
    return client


def test_catalogue_lists_the_six_domains_and_other_with_their_services(api: TestClient) -> None:
    response = api.get("/api/catalogue")  # no login
    assert response.status_code == 200
    body = response.json()
    assert body["version"]
    labels = [d["label"] for d in body["domains"]]
    assert labels == ["计量", "标准化", "认证认可", "检验检测", "质量管理", "知识产权", "其他/综合"]
    ids = [s["id"] for d in body["domains"] for s in d["services"]]
    assert sorted(ids) == sorted(s.id for s in KB.services)
    testing = next(d for d in body["domains"] if d["code"] == "testing")
    assert [s["id"] for s in testing["services"]] == ["6.4.1", "6.4.2", "6.4.3", "6.4.4"]
    cable = next(s for s in testing["services"] if s["id"] == "6.4.2")
    assert cable["institution_count"] == len(KB.institutions_for("6.4.2")) > 0
    assert cable["station_count"] == len(KB.stations_for("6.4.2")) > 0


def test_a_service_page_is_its_operating_manual(api: TestClient) -> None:
    page = api.get("/api/catalogue/services/6.4.2").json()
    source = KB.get("6.4.2")
    assert page["title"] == source.title  # type: ignore[union-attr]
    for field in ("acceptance_conditions", "materials", "process", "commitment", "description"):
        assert page[field] == getattr(source, field) and page[field]
    assert page["domain_label"] == "检验检测"
    offered = {i["id"] for i in page["institutions"]}
    assert offered == {i.id for i in KB.institutions_for("6.4.2")}
    ratings = [i["rating"] for i in page["institutions"]]
    assert ratings == sorted(ratings, reverse=True)
    first = page["institutions"][0]
    assert first["region"] and first["service_modes"] and first["products"]
    assert {s["id"] for s in page["stations"]} == {s.id for s in KB.stations_for("6.4.2")}
    assert all(s["phone"] and s["address"] for s in page["stations"])


def test_unknown_ids_get_404_with_a_chinese_message(api: TestClient) -> None:
    for path, word in (
        ("/api/catalogue/services/6.9.9", "服务事项"),
        ("/api/catalogue/institutions/inst-nowhere", "服务机构"),
        ("/api/catalogue/stations/st-nowhere", "服务站点"),
        ("/api/catalogue/services/inst-chengheng-metrology", "服务事项"),  # not a service
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        detail = response.json()["detail"]
        assert detail["code"] == "not_found"
        assert word in detail["message"] and "服务目录" in detail["message"]


def test_institutions_by_domain_and_region(api: TestClient) -> None:
    listed = api.get("/api/catalogue/institutions", params={"domain": "metrology"}).json()
    assert {i["id"] for i in listed} == {i.id for i in KB.institutions if "metrology" in i.domains}
    assert all("metrology" in i["domains"] for i in listed)
    local = api.get(
        "/api/catalogue/institutions", params={"domain": "testing", "region": "江阴"}
    ).json()
    assert local and all("江阴" in i["region"] and "testing" in i["domains"] for i in local)
    bad = api.get("/api/catalogue/institutions", params={"domain": "cooking"})
    assert bad.status_code == 422
    assert "未知的领域" in bad.json()["detail"]["message"]


def test_institution_and_station_pages(api: TestClient) -> None:
    page = api.get("/api/catalogue/institutions/inst-chengheng-metrology").json()
    assert page["title"] == "江阴澄衡计量检定所"
    assert [s["id"] for s in page["services"]] == ["6.1.1", "6.1.3", "6.1.2", "6.1.4"]
    assert page["phone"] and page["hours"] and page["address"] and page["qualifications"]
    assert [s["id"] for s in page["stations"]] == ["st-chengjiang"]  # the station of its region
    station = api.get("/api/catalogue/stations/st-zhouzhuang").json()
    assert station["region"] == "江阴市周庄镇"
    assert [s["id"] for s in station["services"]] == [
        "6.4.2", "6.4.1", "6.1.2", "6.1.3", "5.3b", "5.3c", "5.3d"
    ]  # fmt: skip
    by_domain = api.get("/api/catalogue/stations", params={"domain": "ip"}).json()
    assert {s["id"] for s in by_domain} == {s.id for s in KB.stations if "ip" in s.domains}


def test_keyword_search_over_the_catalogue(api: TestClient) -> None:
    body = api.get("/api/catalogue/search", params={"q": "电线电缆检测"}).json()
    assert body["services"][0]["id"].startswith("6.4."), body["services"]
    assert any("电线电缆" in i["summary"] for i in body["institutions"])
    assert body["stations"]
    metrology = api.get("/api/catalogue/search", params={"q": "电线电缆", "domain": "metrology"})
    assert all(s["id"].startswith("6.1.") for s in metrology.json()["services"])
    nothing = api.get("/api/catalogue/search", params={"q": "今天晚饭吃什么好呢"}).json()
    assert nothing["services"] == [] and nothing["institutions"] == []
    empty = api.get("/api/catalogue/search", params={"q": "   "})
    assert empty.status_code == 422
    assert empty.json()["detail"]["message"] == "请输入要搜索的关键词"


def test_search_api_browses_a_category_without_query(api: TestClient) -> None:
    for kind in ("service", "institution", "station", "faq"):
        response = api.get("/api/search", params={"kind": kind, "domain": "certification"})
        assert response.status_code == 200, kind
        results = response.json()["results"]
        assert results, kind
        for r in results:
            assert r.get("domain") == "certification" or "certification" in r.get("domains", [])
    all_testing = api.get("/api/search", params={"kind": "institution", "domain": "testing"})
    expected = [i.id for i in KB.institutions if "testing" in i.domains]
    assert [r["id"] for r in all_testing.json()["results"]] == expected  # all, in order
    neither = api.get("/api/search", params={"kind": "service"})
    assert neither.status_code == 422
    assert "分类检索" in neither.json()["detail"]["message"]
