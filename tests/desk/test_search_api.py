"""GET /api/search (DESIGN §4) through the app, on the real index."""

import pytest
from fastapi.testclient import TestClient

from retrieval import search as search_module
from retrieval.settings import RetrievalSettings


@pytest.fixture
def search_client(
    client: TestClient, retrieval_settings: RetrievalSettings, monkeypatch: pytest.MonkeyPatch
) -> TestClient:
    monkeypatch.setattr(search_module, "get_settings", lambda: retrieval_settings)
    return client


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_search_returns_ranked_published_services(search_client: TestClient) -> None:
    params = {"q": "压力表校准", "kind": "service", "k": 3}
    response = search_client.get("/api/search", params=params)
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 3
    assert results[0]["id"].startswith("6.1.")
    assert {"id", "kind", "title", "score"} <= set(results[0])
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_search_institutions_filtered_by_region(search_client: TestClient) -> None:
    results = search_client.get(
        "/api/search", params={"q": "电线电缆检测", "kind": "institution", "region": "江阴"}
    ).json()["results"]
    assert results and all("江阴" in r["region"] for r in results)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_search_rejects_empty_query_in_chinese(search_client: TestClient) -> None:
    response = search_client.get("/api/search", params={"q": "", "kind": "service"})
    assert response.status_code == 422
    assert "查询文本" in response.json()["detail"]["message"]
