"""The action server's encoder asks the app's model (POST /api/embeddings): same vectors, same
ranking, and a clear failure — quickly — while the app is out of reach."""

import json
import time
from collections.abc import Callable

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from desk.search import embeddings_router
from retrieval.encoder_cache import local_encoder
from retrieval.remote_encoder import EncoderUnavailable, RemoteEncoder
from retrieval.search import Searcher
from retrieval.settings import RetrievalSettings
from tests.support import free_port

QUERIES = ["我们有一批电线电缆需要做检测", "压力表校准去哪里做", "企业注册需要准备什么材料"]
ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def app_client(
    client: TestClient, retrieval_settings: RetrievalSettings, monkeypatch: pytest.MonkeyPatch
) -> TestClient:
    monkeypatch.setattr(embeddings_router, "get_settings", lambda: retrieval_settings)
    return client


def remote(client: TestClient, headers: dict[str, str]) -> RemoteEncoder:
    token = headers["Authorization"].split(" ", 1)[1]
    return RemoteEncoder("/api/embeddings", token=token, client=client)


@ON_SQLITE
def test_the_apps_vectors_are_the_models_own(
    app_client: TestClient, service_headers: dict[str, str], retrieval_settings: RetrievalSettings
) -> None:
    encoder = remote(app_client, service_headers)
    model = local_encoder(retrieval_settings)
    assert np.array_equal(encoder.encode_queries(QUERIES), model.encode_queries(QUERIES))
    passages = ["电线电缆型式检验，江阴市检测中心", "计量器具检定"]
    assert np.array_equal(encoder.encode_passages(passages), model.encode_passages(passages))
    assert (encoder.name, encoder.dimension) == (model.name, model.dimension)


@ON_SQLITE
def test_search_through_the_app_ranks_as_the_model_here(
    app_client: TestClient, service_headers: dict[str, str], retrieval_settings: RetrievalSettings
) -> None:
    here = Searcher.open(retrieval_settings, encoder=local_encoder(retrieval_settings))
    there = Searcher.open(retrieval_settings, encoder=remote(app_client, service_headers))
    for query in QUERIES:
        for kind in ("service", "institution", "faq"):
            expected = [(h.id, h.score) for h in here.search(query, kind=kind, k=10)]
            assert [(h.id, h.score) for h in there.search(query, kind=kind, k=10)] == expected


@ON_SQLITE
def test_embeddings_are_for_the_bots_service_only(app_client: TestClient) -> None:
    refused = app_client.post("/api/embeddings", json={"texts": ["电线电缆检测"]})
    assert refused.status_code == 401
    assert refused.json()["detail"]["code"] == "unauthorized"
    wrong = app_client.post(
        "/api/embeddings",
        json={"texts": ["电线电缆检测"]},
        headers={"Authorization": "Bearer not-the-token"},
    )
    assert wrong.status_code == 401


@ON_SQLITE
def test_too_many_texts_are_refused(
    app_client: TestClient, service_headers: dict[str, str]
) -> None:
    too_many = {"texts": ["检测"] * (embeddings_router.MAX_TEXTS + 1)}
    response = app_client.post("/api/embeddings", json=too_many, headers=service_headers)
    assert response.status_code == 422
    bad_kind = {"kind": "document", "texts": ["检测"]}
    assert (
        app_client.post("/api/embeddings", json=bad_kind, headers=service_headers).status_code
        == 422
    )


def _mock(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def _texts(request: httpx.Request) -> list[str]:
    return list(json.loads(request.content)["texts"])


def _answer(request: httpx.Request) -> httpx.Response:
    vectors = [[0.6, 0.8]] * len(_texts(request))
    return httpx.Response(200, json={"model": "m", "dimension": 2, "vectors": vectors})


def test_nothing_listening_is_unavailable_within_a_second() -> None:
    encoder = RemoteEncoder(f"http://127.0.0.1:{free_port()}/api/embeddings", token="t")
    started = time.monotonic()
    with pytest.raises(EncoderUnavailable):
        encoder.encode_queries(["电线电缆检测"])
    assert time.monotonic() - started < 1.5  # one quick retry, not a hang


def test_a_refused_connection_is_tried_once_more() -> None:
    calls: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return _answer(request)

    encoder = RemoteEncoder("http://app/api/embeddings", token="t", client=_mock(flaky))
    assert encoder.encode_queries(["检测"]).tolist() == [[pytest.approx(0.6), pytest.approx(0.8)]]
    assert len(calls) == 2


def test_a_timeout_is_not_retried() -> None:
    calls: list[int] = []

    def slow(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ReadTimeout("timed out", request=request)

    encoder = RemoteEncoder("http://app/api/embeddings", token="t", client=_mock(slow))
    with pytest.raises(EncoderUnavailable, match="timeout"):
        encoder.encode_queries(["检测"])
    assert len(calls) == 1


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(503, json={"detail": "starting"}),
        httpx.Response(200, text="<html>proxy error</html>"),
        httpx.Response(200, json={"model": "m", "dimension": 2, "vectors": []}),
    ],
)
def test_an_answer_that_is_not_embeddings_is_unavailable(response: httpx.Response) -> None:
    encoder = RemoteEncoder(
        "http://app/api/embeddings", token="t", client=_mock(lambda request: response)
    )
    with pytest.raises(EncoderUnavailable):
        encoder.encode_queries(["检测"])


def test_a_repeated_query_is_encoded_once() -> None:
    asked: list[list[str]] = []

    def counting(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer t"
        asked.append(_texts(request))
        return _answer(request)

    encoder = RemoteEncoder("http://app/api/embeddings", token="t", client=_mock(counting))
    first = encoder.encode_queries(["电线电缆检测"])  # services, then institutions: one request
    again = encoder.encode_queries(["电线电缆检测", "压力表"])
    assert asked == [["电线电缆检测"], ["压力表"]]
    assert np.array_equal(again[0], first[0]) and again.shape == (2, 2)
