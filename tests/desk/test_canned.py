"""Canned replies: shared ones kept by staff, personal ones per expert, search by keyword."""

from typing import Any

from fastapi.testclient import TestClient

from app.settings import AppSettings
from desk.audit import entries_for

from .console import detail, make_user, session_for

URL = "/api/canned-replies"


def _add(
    client: TestClient, headers: dict[str, str], shortcut: str, **fields: str
) -> dict[str, Any]:
    body = {"shortcut": shortcut, "title": f"{shortcut}标题", "text": f"{shortcut}的回复"} | fields
    response = client.post(URL, headers=headers, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def _shortcuts(client: TestClient, headers: dict[str, str], q: str = "") -> list[str]:
    response = client.get(URL, headers=headers, params={"q": q} if q else {})
    assert response.status_code == 200, response.text
    return [r["shortcut"] for r in response.json()["items"]]


def test_shared_by_staff_personal_per_expert(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    zhang = make_user(client, "zhang.expert")
    li = make_user(client, "li.expert")
    staff = make_user(client, "wang.staff", "staff")

    refused = client.post(
        URL,
        headers=zhang,
        json={"shortcut": "问候", "title": "问候", "text": "您好", "scope": "shared"},
    )
    assert detail(refused) == (
        403,
        "forbidden",
        "只有工作人员可以添加共享快捷回复，您可以添加个人快捷回复。",
    )
    shared = _add(client, staff, "问候", scope="shared", text="您好，这里是质量门诊。")
    assert (shared["scope"], shared["owner"]) == ("shared", None)
    mine = _add(client, zhang, "jianding", title="强制检定", text="强制检定请向当地计量院申请。")
    assert (mine["scope"], mine["owner"]) == ("personal", "zhang.expert")
    _add(client, li, "li_own")

    assert _shortcuts(client, zhang) == ["jianding", "问候"]  # own first, then shared
    assert _shortcuts(client, li) == ["li_own", "问候"]
    assert _shortcuts(client, staff) == ["问候"]

    taken = client.post(
        URL, headers=zhang, json={"shortcut": "jianding", "title": "t", "text": "x"}
    )
    assert detail(taken) == (422, "shortcut_taken", "快捷词 /jianding 已存在。")
    _add(client, li, "jianding")  # another expert's own words may use the same keyword
    assert client.get(URL, headers=service_headers).status_code == 403
    assert (
        client.post(
            URL, headers=service_headers, json={"shortcut": "a", "title": "a", "text": "a"}
        ).status_code
        == 403
    )
    bad = client.post(
        URL, headers=zhang, json={"shortcut": "with space", "title": "t", "text": "x"}
    )
    assert bad.status_code == 422

    with session_for(app_settings) as session:
        [entry] = entries_for(session, subject=f"canned:{shared['id']}")
    assert (entry.actor, entry.action) == ("wang.staff", "canned.create")
    assert entry.details == {"scope": "shared", "shortcut": "问候"}


def test_search_by_keyword(client: TestClient) -> None:
    zhang = make_user(client, "zhang.expert")
    staff = make_user(client, "wang.staff", "staff")
    _add(client, staff, "jiliang", scope="shared", title="计量服务", text="计量校准请预约。")
    _add(client, staff, "renzheng", scope="shared", title="认证", text="认证认可与计量无关。")
    _add(client, zhang, "my_jiliang", title="我的计量话术", text="您好")
    _add(client, zhang, "rate100", title="折扣", text="优惠 100% 不收费")

    # a shortcut that starts with the words first, then the caller's own, then the rest
    assert _shortcuts(client, zhang, "jiliang") == ["jiliang", "my_jiliang"]
    assert _shortcuts(client, zhang, "计量") == ["my_jiliang", "jiliang", "renzheng"]
    assert _shortcuts(client, zhang, "JILIANG") == ["jiliang", "my_jiliang"]
    # LIKE's wildcards are plain letters here
    assert _shortcuts(client, zhang, "_") == ["my_jiliang"]
    assert _shortcuts(client, zhang, "%") == ["rate100"]
    assert _shortcuts(client, zhang, "不存在") == []


def test_who_may_delete(client: TestClient, app_settings: AppSettings) -> None:
    zhang = make_user(client, "zhang.expert")
    li = make_user(client, "li.expert")
    staff = make_user(client, "wang.staff", "staff")
    shared = _add(client, staff, "gongxiang", scope="shared")
    own = _add(client, zhang, "ziji")

    for headers, reply in ((zhang, shared), (li, own), (staff, own)):
        refused = client.delete(f"{URL}/{reply['id']}", headers=headers)
        assert detail(refused) == (403, "forbidden", "您不能删除这条快捷回复。")
    assert client.delete(f"{URL}/{own['id']}", headers=zhang).status_code == 204
    assert client.delete(f"{URL}/{shared['id']}", headers=staff).status_code == 204
    missing = client.delete(f"{URL}/{own['id']}", headers=zhang)
    assert detail(missing) == (404, "not_found", "未找到该快捷回复。")
    assert _shortcuts(client, zhang) == []
    with session_for(app_settings) as session:
        actions = [e.action for e in entries_for(session, subject=f"canned:{own['id']}")]
    assert actions == ["canned.create", "canned.delete"]
