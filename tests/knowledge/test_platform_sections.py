"""No knowledge answer or bot text sends a user to a section or function the platform lacks.

The real sections are listed once, in ``knowledge.platform.PLATFORM_SECTIONS``. These tests
read every text a user can be told — knowledge answers, bot responses and buttons, the bot's
phrase templates, the Chinese strings of the actions — and fail on any reference outside that
list; the cases below prove the detector catches what the old answers said.
"""

from __future__ import annotations

import ast
import csv
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from channels.wechat.menu import MENU_TITLES, build_menu
from knowledge.exchange import import_file
from knowledge.platform import KNOWN_NAMES, PLATFORM_SECTIONS, unknown_references
from knowledge.store import DATA_DIR, read_entries
from knowledge.validate import told_texts, validate

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"
TODAY = date(2026, 11, 23)
Doc = dict[str, Any]
Edit = Callable[[str, Callable[[Doc], None]], None]


def _strings(value: object, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _strings(item, f"{where}[{n}]")


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the constant nodes that are docstrings (read by developers, never sent)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _python_strings(paths: list[Path]) -> Iterator[tuple[str, str]]:
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skip
                and _has_cjk(node.value)
            ):
                yield f"{path.name}:{node.lineno}", node.value


def channel_texts() -> Iterator[tuple[str, str]]:
    """The channels' own Chinese strings (notices, WeChat replies) and the web chat page."""
    yield from _python_strings(sorted((ROOT / "channels").rglob("*.py")))
    for page in sorted((ROOT / "channels").rglob("*.html")):
        yield page.name, page.read_text(encoding="utf-8")


def bot_texts(bot: Path = BOT) -> Iterator[tuple[str, str]]:
    """(where, text) of every Chinese text the bot can send."""
    for path in sorted((bot / "domain").glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        yield from _strings(doc.get("responses", {}), path.name)
    for path in sorted((bot / "templates").glob("*.yml")):
        yield from _strings(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
    yield from _python_strings(sorted((bot / "actions").glob("*.py")))


def knowledge_texts(root: Path = DATA_DIR) -> Iterator[tuple[str, str]]:
    located, problems = read_entries(root)
    assert not problems
    for item in located:
        for field, text in told_texts(item.entry):
            yield f"{item.file}:{item.entry.id}:{field}", text


def _offending(texts: Iterator[tuple[str, str]]) -> list[str]:
    return [
        f"{where}: {ref.name}（{ref.words}）"
        for where, text in texts
        for ref in unknown_references(text)
    ]


# ── the shipped texts ──────────────────────────────────────────────────────────────────


def test_no_knowledge_answer_names_a_section_the_platform_lacks() -> None:
    texts = list(knowledge_texts())
    assert len(texts) > 1000  # every answer, description, material, step and commitment is read
    assert _offending(iter(texts)) == []


def test_no_bot_text_names_a_section_the_platform_lacks() -> None:
    texts = list(bot_texts())
    places = {where.split(":")[0].split(".")[0] for where, _ in texts}
    assert {"progress", "complaint", "registration", "core", "need"} <= places  # domain + templates
    assert any(where.startswith("handoff.py:") for where, _ in texts)  # and the actions' strings
    assert _offending(iter(texts)) == []


def test_no_channel_text_names_a_section_the_platform_lacks() -> None:
    texts = list(channel_texts())
    assert any(where == "index.html" for where, _ in texts) and len(texts) > 50
    assert _offending(iter(texts)) == []


def test_every_wechat_menu_entry_is_a_listed_section() -> None:
    menu = build_menu("https://example.com/chat")
    names = [b["name"] for b in menu["button"]]
    names += [s["name"] for b in menu["button"] for s in b.get("sub_button", [])]
    assert set(MENU_TITLES.values()) <= set(names)
    assert [n for n in names if n not in KNOWN_NAMES] == []


def test_each_section_says_what_it_is_and_names_are_unique() -> None:
    names = [n for s in PLATFORM_SECTIONS for n in s.names]
    assert len(names) == len(set(names))
    assert all(s.what.strip() for s in PLATFORM_SECTIONS)
    for section in PLATFORM_SECTIONS:  # a listed section may be named in any of the forms caught
        assert unknown_references(f"请在“{section.name}”栏目中查看") == []


# ── the detector catches what the old answers said ────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("请在「我的需求—反映问题」中说明情况", "我的需求—反映问题"),
        ("请在“我的需求”中点击“反映问题”", "我的需求"),
        ("请在“我的需求”中点击“反映问题”", "反映问题"),
        ("也可以直接问质量门诊助手“我的需求进度”", "我的需求进度"),
        ("编号忘了的，登录平台在“我的投诉”中可以看到", "我的投诉"),
        ("登录平台后在「报告证书」中输入报告编号", "报告证书"),
        ("在“培训”栏目查看课程时间", "培训"),
        ("在平台“培训信息”栏目查看培训计划", "培训信息"),
        ("在“公益开放”栏目查看开放日安排", "公益开放"),
        ("关注平台“项目申报”栏目", "项目申报"),
        ("可以在平台“优秀企业展示”栏目提交申请", "优秀企业展示"),
        ("请在平台“机构入驻”栏目提交申请", "机构入驻"),
        ("请按提示补充资料后在“我的账号—资料认证”中重新提交", "我的账号—资料认证"),
        ("企业管理员可以在“企业信息—经办人”中添加经办人", "企业信息—经办人"),
        ("在个人中心修改手机号", "个人中心"),
        ("审核结果会通知您（短信和站内消息）", "短信通知"),
        ("审核结果会通知您（短信和站内消息）", "站内信"),
        ("受理编号会通过平台消息发给您", "站内信"),
        ("我们会发站内信提醒您评价", "站内信"),
        ("诚信承诺书在企业用户注册页面提供模板下载", "企业用户注册"),
        ("在平台仪器共享目录检索仪器", "仪器共享"),
        ("在平台标准信息查询中输入标准号", "标准信息查询"),
        ("在平台首页输入产品名称即可检索", "平台首页"),
        ("登录后输入证书编号查询电子证书", "账号登录"),
        ("选好服务后在线下单", "在线下单"),
        ("查看课程后在线报名", "在线报名"),
        ("报告出具后可在线下载", "在线下载报告证书"),
        ("平台会推送申报通知", "消息推送"),
        ("关注平台或订阅通知", "订阅通知"),
        ("进度可在平台随时查询", "平台自助"),
    ],
)
def test_a_reference_to_a_missing_section_is_caught(text: str, name: str) -> None:
    assert name in [ref.name for ref in unknown_references(text)]


@pytest.mark.parametrize(
    "text",
    [
        "请回复“转人工”，由工作人员为您办理",
        "在这里回复“查进度”即可查看",
        "也可以通过公众号菜单“查询办理进度”查看",
        "在“网页对话”中也可以提交",
        "请带上原件到就近线下站点办理",
        "在强制检定管理信息系统中登记造册并备案",
        "也可以在国家认证认可信息公共服务平台自行查询，以该平台上的信息为准",
        "拿不准的选“其他”，在投诉中注明“请勿向机构透露企业名称”",
        "如“电线电缆 导体电阻”“GB/T 12706”“压力表检定”",
        "我的评价有什么用？",
    ],
)
def test_what_the_user_can_really_do_is_not_flagged(text: str) -> None:
    assert unknown_references(text) == []


# ── the same check guards the knowledge files and the bot texts of a broken copy ────────


def test_validate_refuses_an_answer_that_points_to_a_missing_column(
    data_copy: Path, edit_yaml: Edit
) -> None:
    def break_answer(doc: Doc) -> None:
        entry = next(e for e in doc["entries"] if e["id"] == "faq-testing-training")
        entry["answer"] = "请在平台“培训”栏目查看课程并在线报名。"

    edit_yaml("faqs.yaml", break_answer)
    report = validate(root=data_copy, today=TODAY)
    reasons = [(p.entry_id, p.reason) for p in report.errors]
    assert len(reasons) == 2
    assert all(entry_id == "faq-testing-training" for entry_id, _ in reasons)
    assert any("「培训」" in reason and "PLATFORM_SECTIONS" in reason for _, reason in reasons)
    assert any("「在线报名」" in reason for _, reason in reasons)


def test_a_bot_text_that_promises_sms_or_a_my_page_is_caught(tmp_path: Path) -> None:
    bot = tmp_path / "bot"
    for sub in ("domain", "templates", "actions"):
        (bot / sub).mkdir(parents=True)
    (bot / "domain" / "x.yml").write_text(
        'responses:\n  utter_x:\n    - text: "处理结果会以短信通知您"\n', encoding="utf-8"
    )
    (bot / "actions" / "x.py").write_text(
        '"""请在“我的订单”中查看（a docstring, not sent）."""\nHINT = "请在“我的订单”中查看"\n',
        encoding="utf-8",
    )
    assert _offending(bot_texts(bot)) == [
        "x.yml.utter_x[0].text: 短信通知（短信）",
        "x.py:2: 我的订单（在“我的订单”）",
    ]


def test_an_imported_row_promising_sms_is_refused_and_nothing_is_written(
    data_copy: Path, tmp_path: Path
) -> None:
    before = {p.name: p.read_bytes() for p in sorted(data_copy.iterdir())}
    path = tmp_path / "new.csv"
    row = {
        "类别": "faq",
        "编号": "faq-test-sms",
        "标题": "审核结果怎么通知？",
        "负责人": "平台运营组",
        "复审日期": "2027-06-30",
        "问法变体": "审核结果在哪看",
        "答案": "审核结果会以短信发给您，也可以登录后在“我的账号”中查看。",
        "条款": "7.1.1.5",
    }
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)

    result = import_file(path, root=data_copy, today=TODAY)

    assert not result.ok and not result.written
    refused = [e.reason for e in result.errors if e.entry_id == "faq-test-sms"]
    assert any("「短信通知」" in r for r in refused)
    assert any("「我的账号」" in r for r in refused)
    assert any("「账号登录」" in r for r in refused)
    assert {p.name: p.read_bytes() for p in sorted(data_copy.iterdir())} == before
