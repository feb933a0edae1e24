"""Knowledge curation on the real stack, in Chromium: a staff member edits an FAQ's answer and
publishes it, and the bot's next answer in the web chat carries the new text — no restart, no
retraining; imports an XLSX with a bad row (nothing imported, the reason shown) and then a good
one; approves an expert's draft; withdraws a standard and sees its entries held back.

The stack here is this module's own (its own database and a copy of the index in a temporary
folder), so the edits never reach the shared var/index or the other browser tests' stack.
Screenshots go to var/screenshots/knowledge/.
"""

import io
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook
from playwright.sync_api import expect, sync_playwright

from app.stack import Stack
from desk.consultations.models import KnowledgeDraft
from desk.db import get_sessionmaker
from desk.paths import REPO_ROOT
from retrieval.index import copy_live
from tests.e2e.conftest import postgres_database, running, stack_settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = REPO_ROOT / "var" / "screenshots" / "knowledge"
STAFF, PASSWORD = "zhou.staff", "staff-pass-" + secrets.token_hex(4)
QUESTION = "提交需求后多久会有人联系我"
STANDARD = "GB/T 19001-2016"


def index_from_this_checkout(target: Path) -> None:
    """A private index of this checkout's sample knowledge: the shared one copied, then rebuilt
    where the sample differs (another checkout may have built var/index from its own YAML)."""
    copy_live(REPO_ROOT / "var" / "index", target)
    env = dict(os.environ, QCLINIC_INDEX_DIR=str(target), HF_HUB_OFFLINE="1")
    subprocess.run(
        [sys.executable, "-m", "retrieval", "build"],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        timeout=300,
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def kstack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Its own stack, database and index copy; every test runs on SQLite and on PostgreSQL."""
    with ExitStack() as cleanup:
        folder = tmp_path_factory.mktemp("knowledge-e2e")
        url = (
            f"sqlite:///{folder / 'desk.db'}"
            if request.param == "sqlite"
            else cleanup.enter_context(postgres_database())
        )
        yield from _kstack(folder, url)


def _kstack(folder: Path, url: str) -> Iterator[Stack]:
    index_from_this_checkout(folder / "index")
    stack = Stack(
        settings=stack_settings(url),
        log_dir=folder / "logs",
        env={"QCLINIC_INDEX_DIR": str(folder / "index")},  # its own index, for the children
    )
    with running(stack, warm=False) as started:
        yield started


def _login(stack: Stack, username: str, password: str) -> dict[str, str]:
    response = httpx.post(
        f"{stack.settings.desk_url}/api/auth/login",
        json={"username": username, "password": password},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _user(stack: Stack, username: str, role: str) -> dict[str, str]:
    admin_password = stack.settings.admin_password
    assert admin_password is not None
    admin = _login(stack, stack.settings.admin_user, admin_password.get_secret_value())
    created = httpx.post(
        f"{stack.settings.desk_url}/api/users",
        headers=admin,
        json={"username": username, "display_name": "周工", "role": role, "password": PASSWORD},
        timeout=10,
    )
    assert created.status_code in (201, 422), created.text
    return _login(stack, username, PASSWORD)


@pytest.fixture(scope="module")
def staff(kstack: Stack) -> dict[str, str]:
    return _user(kstack, STAFF, "staff")


@pytest.fixture(scope="module")
def page(kstack: Stack, staff: dict[str, str]) -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page.goto(f"{kstack.settings.desk_url}/console/")
        page.get_by_label("用户名").fill(STAFF)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_text("知识库")).to_be_visible(timeout=15_000)
        yield page
        browser.close()


def _bot_says(stack: Stack, text: str) -> str:
    response = httpx.post(
        f"{stack.settings.desk_url}/api/chat/messages",
        json={"conversation_id": f"web:kn-{secrets.token_hex(6)}", "text": text},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return "\n".join(m.get("text") or "" for m in response.json()["messages"])


def _top_faq(stack: Stack, headers: dict[str, str], question: str) -> str:
    response = httpx.post(
        f"{stack.settings.desk_url}/api/knowledge/search-test",
        headers=headers,
        json={"q": question, "kinds": ["faq"], "k": 1},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["kinds"][0]["hits"][0]["id"])


def _entry(stack: Stack, headers: dict[str, str], entry_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{stack.settings.desk_url}/api/knowledge/entries/{entry_id}", headers=headers, timeout=10
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _xlsx(rows: list[list[str]], path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["类别", "编号", "标题", "负责人", "复审日期", "问法变体", "答案"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    path.write_bytes(out.getvalue())
    return path


def test_edit_publish_and_the_bot_answers_with_it(
    kstack: Stack, staff: dict[str, str], page: Any
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    old = _bot_says(kstack, QUESTION)
    faq_id = _top_faq(kstack, staff, QUESTION)
    rasa_model = (REPO_ROOT / "var" / "rasa" / "models" / "qclinic.tar.gz").stat().st_mtime_ns
    new_text = f"提交需求后，平台在1个工作日内电话联系您（已更新 {secrets.token_hex(2)}）。"
    assert new_text not in old

    base = kstack.settings.desk_url
    page.goto(f"{base}/console/knowledge/entries?entry={faq_id}")
    drawer = page.get_by_role("dialog")
    answer = drawer.get_by_label("答案")
    expect(answer).not_to_have_value("", timeout=10_000)  # the entry is loaded
    answer.fill("")
    drawer.get_by_role("button", name="保存").click()
    # the API's own message, under the field and in the summary above the form
    expect(drawer.get_by_text("字段 答案（answer）不能为空", exact=True)).to_be_visible()
    expect(drawer.get_by_text("条目内容有误：字段 答案（answer）不能为空")).to_be_visible()
    page.screenshot(path=SHOTS / "01-entry-field-error.png")
    answer.fill(new_text)
    drawer.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存为第 2 版")).to_be_visible()
    drawer.get_by_role("tab", name="历史版本").click()
    expect(drawer.get_by_text("修改了答案")).to_be_visible()
    page.screenshot(path=SHOTS / "02-entry-history.png")
    page.keyboard.press("Escape")
    expect(page.get_by_text("待发布 1 条修改")).to_be_visible()
    assert new_text not in _bot_says(kstack, QUESTION)  # saved is not yet served

    page.get_by_role("button", name="发布到机器人").click()
    clicked = time.perf_counter()
    while new_text not in (reply := _bot_says(kstack, QUESTION)):
        assert time.perf_counter() - clicked < 60, reply
    seconds = time.perf_counter() - clicked
    expect(page.get_by_text("发布完成")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("status", name="发布进度")).to_contain_text("已发布")
    page.screenshot(path=SHOTS / "03-published.png")
    print(f"\npublish clicked → bot answers with the new text: {seconds:.2f}s")
    assert (REPO_ROOT / "var" / "rasa" / "models" / "qclinic.tar.gz").stat().st_mtime_ns == (
        rasa_model
    )  # no retraining
    assert _entry(kstack, staff, faq_id)["pending"] is False


def test_edit_an_institution_through_its_form(
    kstack: Stack, staff: dict[str, str], page: Any
) -> None:
    """No JSON: a new capability row with a service chosen from the list, the hours and the
    rating edited in their own inputs; the API's error lands under the row's service select."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    inst_id = "inst-chengheng-metrology"
    before = _entry(kstack, staff, inst_id)
    rows = len(before["payload"]["capabilities"])
    new_hours = f"工作日 8:30—17:30（已更新 {secrets.token_hex(2)}）"

    page.goto(f"{kstack.settings.desk_url}/console/knowledge/entries?entry={inst_id}")
    drawer = page.get_by_role("dialog")
    expect(drawer.get_by_label("服务时间")).to_have_value(
        before["payload"]["hours"], timeout=10_000
    )
    expect(drawer.get_by_label("其他字段")).to_have_count(0)
    first_products = "\n".join(before["payload"]["capabilities"][0]["products"])
    expect(drawer.get_by_label("能力 1 产品")).to_have_value(first_products)  # one per line
    drawer.get_by_role("button", name="添加能力").click()
    added = drawer.locator(f'[aria-label="能力 {rows + 1}"]')
    added.get_by_label(f"能力 {rows + 1} 产品").fill("电子秤\n血压计")
    drawer.get_by_role("button", name="添加依据").click()  # this entry cites none yet
    source = drawer.locator('[aria-label="依据 1"]')
    source.get_by_label("依据 1 编号").fill("JJF 1001-2011")
    source.get_by_label("依据 1 名称").fill("通用计量术语及定义")
    for label, day in (("实施日期", "2012-03-01"), ("废止日期", "2011-01-01")):
        source.get_by_label(f"依据 1 {label}").fill(day)
        source.get_by_label(f"依据 1 {label}").press("Enter")
    drawer.get_by_role("button", name="保存").click()
    expect(source.locator(".el-form-item__error")).to_contain_text("废止日期早于实施日期")
    # the API names capabilities.N.service_id; the form shows it under that row's select
    expect(added.locator(".el-form-item__error")).to_have_text(
        f"字段 服务能力（capabilities[{rows}].service_id）不能为空"
    )
    assert _entry(kstack, staff, inst_id)["version"] == before["version"]  # nothing saved
    drawer.get_by_role("button", name="删除依据 1").click()
    expect(source).to_have_count(0)

    added.get_by_label(f"能力 {rows + 1} 服务事项").click()
    page.get_by_role("option", name=re.compile(r"^6\.4\.1 ")).click()
    drawer.get_by_label("服务时间").fill(new_hours)
    drawer.get_by_label("评分").fill("4.5")
    drawer.get_by_label("服务时间").click()  # the number input commits on blur
    drawer.get_by_role("button", name="保存").click()
    expect(page.get_by_text(f"已保存为第 {before['version'] + 1} 版")).to_be_visible()
    expect(added.locator(".el-form-item__error")).to_have_count(0)
    page.wait_for_timeout(300)
    page.screenshot(path=SHOTS / "10-institution-form.png")
    drawer.get_by_label("能力 1 产品").scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "11-institution-form-capabilities.png")
    page.keyboard.press("Escape")

    stored = _entry(kstack, staff, inst_id)["payload"]
    assert stored["hours"] == new_hours and stored["rating"] == 4.5
    assert stored["capabilities"][:rows] == before["payload"]["capabilities"][:rows]
    assert stored["capabilities"][rows]["service_id"] == "6.4.1"
    assert stored["capabilities"][rows]["products"] == ["电子秤", "血压计"]
    unchanged = ("qualifications", "contact", "service_modes", "sources", "keywords", "type")
    assert {k: stored[k] for k in unchanged} == {k: before["payload"][k] for k in unchanged}


def test_import_with_a_bad_row_then_a_good_one(
    kstack: Stack, staff: dict[str, str], page: Any, tmp_path: Path
) -> None:
    base = kstack.settings.desk_url
    good_row = [
        "faq",
        "faq-e2e-parking",
        "停车方便吗？",
        "平台运营组",
        "2027-06-30",
        "",
        "大厅有访客车位。",
    ]
    bad_row = ["faq", "faq-e2e-empty", "这条没有答案？", "平台运营组", "2027-06-30", "", ""]
    page.goto(f"{base}/console/knowledge/import")
    page.get_by_label("选择导入文件").set_input_files(
        str(_xlsx([good_row, bad_row], tmp_path / "bad.xlsx"))
    )
    expect(page.get_by_text("整个文件不会导入")).to_be_visible(timeout=15_000)
    errors = page.get_by_label("错误行")
    expect(errors).to_contain_text("faq-e2e-empty")
    expect(errors).to_contain_text("缺少字段 答案（answer）")
    expect(page.get_by_role("button", name="确认导入")).to_be_disabled()
    page.screenshot(path=SHOTS / "04-import-bad-row.png")
    missing = httpx.get(f"{base}/api/knowledge/entries/faq-e2e-parking", headers=staff, timeout=10)
    assert missing.status_code == 404  # nothing imported

    page.get_by_label("选择导入文件").set_input_files(
        str(_xlsx([good_row], tmp_path / "good.xlsx"))
    )
    expect(page.get_by_text("新增 1")).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_text("已导入，所有行已保存为新版本。")).to_be_visible(timeout=15_000)
    page.screenshot(path=SHOTS / "05-import-done.png")
    created = _entry(kstack, staff, "faq-e2e-parking")
    assert (created["version"], created["pending"]) == (1, True)


def test_approve_an_experts_draft(kstack: Stack, staff: dict[str, str], page: Any) -> None:
    _user(kstack, "sun.expert", "expert")
    assert kstack.settings.database_url
    with get_sessionmaker(kstack.settings.database_url)() as session:
        session.add(
            KnowledgeDraft(
                question="强制检定证书丢了怎么补办？",
                answer="可在平台计量服务中申请补发电子证书，或联系原检定机构。",
                author="sun.expert",
            )
        )
        session.commit()
    page.goto(f"{kstack.settings.desk_url}/console/knowledge/review")
    row = page.get_by_role("row").filter(has_text="强制检定证书丢了怎么补办")
    expect(row).to_be_visible(timeout=10_000)
    expect(row).to_contain_text("sun.expert")
    row.get_by_role("button", name="采纳").click()
    dialog = page.get_by_role("dialog", name="采纳为常见问题")
    dialog.get_by_label("编号").fill("faq-certificate-reissue")
    # as the expert wrote it, the answer sends users to a section the platform lacks
    dialog.get_by_role("button", name="采纳并发布").click()
    expect(dialog.get_by_role("alert").filter(has_text="计量服务")).to_be_visible(timeout=10_000)
    dialog.get_by_label("答案").fill(
        "请联系原检定机构申请补发证书；也可在本对话中回复“转人工”，由工作人员协助（工作人员已核实）。"
    )
    page.wait_for_timeout(500)  # the dialog's fade-in, for the screenshot
    page.screenshot(path=SHOTS / "06-approve-draft.png")
    dialog.get_by_role("button", name="采纳并发布").click()
    expect(page.get_by_text("发布完成")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("没有待审核的草稿")).to_be_visible()
    entry = _entry(kstack, staff, "faq-certificate-reissue")
    assert entry["pending"] is False and "已核实" in entry["payload"]["answer"]
    assert _top_faq(kstack, staff, "强制检定证书丢了怎么补办") == "faq-certificate-reissue"


def test_withdraw_a_standard_and_its_entries_are_held_back(
    kstack: Stack, staff: dict[str, str], page: Any
) -> None:
    base = kstack.settings.desk_url
    listed = httpx.get(f"{base}/api/knowledge/standards", headers=staff, timeout=10).json()
    citing = next(s for s in listed["items"] if s["code"] == STANDARD)["entries"]
    first = citing[0]
    found = httpx.get(f"{base}/api/search", params={"q": first["title"], "kind": first["kind"]})
    assert first["id"] in [r["id"] for r in found.json()["results"]]

    page.goto(f"{base}/console/knowledge/standards")
    # the row of that code (another row may name it as its replacement)
    code_cell = page.get_by_role("cell", name=STANDARD, exact=True)
    row = page.get_by_role("row").filter(has=code_cell).first
    row.get_by_role("button", name="标记废止").click()
    page.get_by_role("dialog").get_by_role("button", name="确认废止").click()
    expect(page.get_by_text("发布完成")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("row").filter(has=code_cell).first).to_contain_text("已废止")
    page.screenshot(path=SHOTS / "07-standard-withdrawn.png")
    served = httpx.get(f"{base}/api/search", params={"q": first["title"], "kind": first["kind"]})
    assert first["id"] not in [r["id"] for r in served.json()["results"]]

    page.goto(f"{base}/console/knowledge/review")
    held = page.get_by_role("row").filter(has_text=first["id"])
    expect(held).to_contain_text("暂停检索服务")
    expect(held).to_contain_text(re.compile("已于 .* 废止"))
    page.screenshot(path=SHOTS / "08-review-held-back.png")


def test_search_test_page_shows_the_scores(kstack: Stack, page: Any) -> None:
    page.goto(f"{kstack.settings.desk_url}/console/knowledge/search-test")
    page.get_by_label("测试问题").fill("压力表去哪里校准")
    page.get_by_role("button", name="测试").click()
    expect(page.get_by_text("会使用", exact=True).first).to_be_visible(timeout=15_000)
    expect(page.get_by_role("columnheader", name="语义").first).to_be_visible()
    page.screenshot(path=SHOTS / "09-search-test.png", full_page=True)


def test_a_new_standard_through_its_form_and_the_bot_answers_from_it(
    kstack: Stack, staff: dict[str, str], page: Any
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    code = "GB/T 1.1-2020"
    before = _bot_says(kstack, f"{code}还有效吗")
    assert "暂时没有" in before, before
    base = kstack.settings.desk_url
    page.goto(f"{base}/console/knowledge/standards")
    page.get_by_role("button", name="新建标准").click()
    drawer = page.get_by_role("dialog")
    drawer.get_by_label("编号", exact=True).fill("std-gbt-1-1-2020")
    title = "标准化工作导则 第1部分：标准化文件的结构和起草规则"
    drawer.get_by_label("标题", exact=True).fill(title)
    drawer.get_by_label("标准编号").fill(code)
    drawer.get_by_role("radio", name="废止").check(force=True)
    drawer.get_by_label("负责人").fill("标准化服务组")
    drawer.get_by_role("button", name="保存").click()
    expect(drawer.get_by_text("状态为废止时须填写废止日期").first).to_be_visible()
    page.screenshot(path=SHOTS / "12-standard-form-error.png")
    drawer.get_by_role("radio", name="现行").check(force=True)
    drawer.get_by_label("实施日期").fill("2020-10-01")
    drawer.get_by_label("实施日期").press("Enter")
    drawer.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存为第 1 版")).to_be_visible()
    page.screenshot(path=SHOTS / "13-standard-form-saved.png")
    drawer.get_by_role("button", name="发布", exact=True).click()  # a new entry is a draft
    expect(page.get_by_text("发布完成")).to_be_visible(timeout=60_000)
    page.keyboard.press("Escape")
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=code, exact=True))
    expect(row).to_contain_text("现行")
    page.screenshot(path=SHOTS / "14-standards-table.png")
    said = _bot_says(kstack, f"{code}还有效吗")
    assert f"{code}《{title}》：现行有效" in said, said
    assert "2020-10-01 起实施" in said
