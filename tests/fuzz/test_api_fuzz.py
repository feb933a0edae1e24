"""The API's own description, fuzzed against the running app (schemathesis, bounded): no
request makes it fail (5xx), and every refusal (4xx) carries a machine-readable code and a
Chinese message, as a person and a program calling the API both need.

The app runs on a loopback port with the channels on (Rasa is not running: the chat answers its
apology), as a staff member, so the fuzzing reaches past the login.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core.result import Ok

from app.main import create_app
from tests.channels.conftest import base_settings
from tests.channels.servers import ServerThread
from tests.desk.staff import staff_headers

CHINESE = re.compile(r"[\u4e00-\u9fff]")
EXAMPLES = 6  # per operation, on about 140 operations: a few minutes
# Routes whose answer is not JSON by design: files, event streams, and WeChat's callback, which
# speaks WeChat's own plain-text and XML protocol.
NOT_JSON = ("/content", "/stream", "/export", "/wechat")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    app_settings = base_settings(folder, f"sqlite:///{folder / 'desk.db'}").model_copy(
        update={"rasa_timeout_s": 1.0, "web_reply_deadline_s": 1.0, "rate_limit_per_address": 0}
    )
    server = ServerThread(create_app(app_settings)).start()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        headers = staff_headers(client)  # type: ignore[arg-type]
        # the first search loads the model and the index (the launcher warms them the same way)
        assert client.get("/api/search", params={"q": "检测"}, timeout=300).status_code == 200
    try:
        yield server.url, headers
    finally:
        server.stop()


def operations(url: str) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    found = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the whole description loads
        found.append(result.ok())
    return found


def explained(response: schemathesis.Response) -> str | None:
    """Why a refusal is not readable, or None when it is."""
    if any(part in str(response.request.url) for part in NOT_JSON):
        return None
    try:
        detail = response.json().get("detail")
    except ValueError:
        return f"not JSON: {response.text[:120]!r}"
    if not isinstance(detail, dict) or not detail.get("code"):
        return f"no code: {response.text[:200]}"
    if not CHINESE.search(str(detail.get("message", ""))):
        return f"no Chinese message: {response.text[:200]}"
    return None


def fuzz(operation: schemathesis.APIOperation, url: str, headers: dict[str, str]) -> list[str]:
    """The problems one operation shows on EXAMPLES generated requests (first of each kind)."""
    problems: dict[str, str] = {}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,  # the same cases on every run
        database=None,
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=url, headers=headers, timeout=30)
        if response.status_code >= 500:
            problems.setdefault("5xx", f"{response.status_code}: {response.text[:300]}")
        elif response.status_code >= 400 and (problem := explained(response)):
            problems.setdefault(str(response.status_code), problem)

    run()
    return [f"{operation.label} → {kind} {text}" for kind, text in problems.items()]


def test_no_request_breaks_the_api_and_every_refusal_is_explained(
    served: tuple[str, dict[str, str]],
) -> None:
    url, headers = served
    found = operations(url)
    assert len(found) > 100  # the whole API, not a part of it
    problems = [p for operation in found for p in fuzz(operation, url, headers)]
    assert problems == [], "\n".join(problems)


def test_a_body_over_the_limit_is_413_in_chinese(served: tuple[str, dict[str, str]]) -> None:
    url, _ = served
    big = "问" * (400 * 1024)  # 1.2 MB of UTF-8 text
    declared = httpx.post(
        f"{url}/api/chat/messages",
        content=('{"conversation_id": "web:fuzz-big-01", "text": "' + big + '"}').encode(),
        headers={"content-type": "application/json"},
    )
    assert declared.status_code == 413
    assert declared.json()["detail"] == {
        "code": "body_too_large",
        "message": "请求内容过大（上限 1 MB），请精简后重试。",
    }

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"conversation_id": "web:fuzz-big-02", "text": "'
        for _ in range(12):
            yield ("问" * 40_000).encode()
        yield b'"}'

    chunked = httpx.post(
        f"{url}/api/chat/messages", content=chunks(), headers={"content-type": "application/json"}
    )
    assert chunked.status_code == 413
    assert chunked.json()["detail"]["code"] == "body_too_large"

    small = httpx.post(
        f"{url}/api/chat/messages",
        json={"conversation_id": "web:fuzz-big-03", "text": "你好"},
        timeout=30,
    )
    assert small.status_code == 200
