"""Check the knowledge files: schema, ids, cross references, Chinese text, review state.

``validate(root)`` returns a ``Report``; errors make ``python -m knowledge validate`` fail,
warnings are printed but do not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from knowledge.constants import KINDS, REGIONS, SERVICE_IDS, service_domain
from knowledge.platform import unknown_references
from knowledge.schema import (
    Contact,
    Entry,
    Faq,
    Institution,
    Service,
    Standard,
    Station,
    standard_key,
)
from knowledge.store import DATA_DIR, Located, Problem, duplicate_problems, read_entries

ID_PREFIXES = {"institution": "inst-", "station": "st-", "faq": "faq-", "standard": "std-"}
CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER_PHONE = "（示例）"
PLACEHOLDER_NUMBER = "示例"
PLACEHOLDER_EMAIL = re.compile(r"@([a-z0-9-]+\.)*example\.(com|org|net)$", re.IGNORECASE)


@dataclass(frozen=True)
class Report:
    root: Path
    counts: dict[str, int]
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


def _error(item: Located, reason: str) -> Problem:
    return Problem(item.file, item.entry.id, reason)


def _warning(item: Located, reason: str) -> Problem:
    return Problem(item.file, item.entry.id, reason, level="warning")


def check_ids(located: list[Located]) -> Iterator[Problem]:
    """Service ids are exactly the 34 of DESIGN §4; other kinds carry their prefix."""
    for item in located:
        entry = item.entry
        if isinstance(entry, Service):
            if entry.id not in SERVICE_IDS:
                yield _error(item, "未知的服务编号（应为 DESIGN §4 所列条款编号之一）")
            elif entry.domain != service_domain(entry.id):
                yield _error(item, f"domain 应为 {service_domain(entry.id)}（按条款编号）")
        elif not entry.id.startswith(ID_PREFIXES[entry.kind]):
            yield _error(item, f"id 应以 {ID_PREFIXES[entry.kind]} 开头")
    present = {i.entry.id for i in located if isinstance(i.entry, Service)}
    for service_id in SERVICE_IDS:
        if service_id not in present:
            yield Problem("-", service_id, "缺少服务事项（DESIGN §4 要求的 34 项之一）")


def check_references(located: list[Located]) -> Iterator[Problem]:
    """Every capability and station service id names an existing service."""
    services = {i.entry.id for i in located if isinstance(i.entry, Service)}
    offered: set[str] = set()
    for item in located:
        entry = item.entry
        refs: list[tuple[str, str]] = []
        if isinstance(entry, Institution):
            refs = [
                (f"capabilities[{n}].service_id", c.service_id)
                for n, c in enumerate(entry.capabilities)
            ]
        elif isinstance(entry, Station):
            refs = [(f"services[{n}]", s) for n, s in enumerate(entry.services)]
        for where, service_id in refs:
            if service_id not in services:
                yield _error(item, f"{where} 指向不存在的服务 {service_id}")
            elif entry.status == "published":
                offered.add(service_id)
    for item in located:
        if isinstance(item.entry, Service) and item.entry.id not in offered:
            yield _warning(item, "没有已发布的机构或站点提供该服务")


def _chinese_fields(entry: Entry) -> dict[str, str]:
    fields = {"title": entry.title}
    if isinstance(entry, Faq):
        fields["answer"] = entry.answer
    elif isinstance(entry, Standard):
        pass  # a standard's title is its Chinese name; the code is not Chinese
    else:
        fields["description"] = entry.description
    if isinstance(entry, Service):
        fields["commitment"] = entry.commitment
    return fields


def check_text(located: list[Located]) -> Iterator[Problem]:
    """Main text fields are Chinese; regions are known; lists hold no duplicates."""
    for item in located:
        entry = item.entry
        for name, value in _chinese_fields(entry).items():
            if not CJK.search(value):
                yield _error(item, f"字段 {name} 应为中文")
        if isinstance(entry, Institution | Station) and entry.region not in REGIONS:
            yield _error(item, f"未知区域 {entry.region!r}（应为无锡市区县或江阴市镇街）")
        if isinstance(entry, Service) and len(set(entry.example_queries)) < 5:
            yield _error(item, "example_queries 至少需要 5 条不同的问法")


# What users say (questions, variants, keywords) and bookkeeping are not what the bot tells them.
_NOT_TOLD = frozenset({"kind", "id", "owner", "sources", "keywords", "variants", "example_queries"})


def _told_texts(value: object, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in _NOT_TOLD:
                yield from _told_texts(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _told_texts(item, f"{where}[{n}]")


def told_texts(entry: Entry) -> Iterator[tuple[str, str]]:
    """(field, text) of every text of ``entry`` the assistant may tell a user (a FAQ's title is
    the user's question, so it is left out)."""
    data = entry.model_dump(mode="json")
    if isinstance(entry, Faq):
        data.pop("title")
    yield from _told_texts(data, "")


def check_platform_sections(located: list[Located]) -> Iterator[Problem]:
    """No answer sends the user to a section or function the platform does not have."""
    for item in located:
        for field, text in told_texts(item.entry):
            for ref in unknown_references(text):
                yield _error(
                    item,
                    f"字段 {field} 提到平台没有的栏目或功能「{ref.name}」（{ref.words}），"
                    "请改为用户现在能办的方式（对话、电话或线下站点），"
                    "或先在 knowledge/platform.py 的 PLATFORM_SECTIONS 中登记",
                )


def _contact_problem(contact: Contact) -> str | None:
    if PLACEHOLDER_PHONE not in contact.phone:
        return f"联系电话 {contact.phone!r} 不是示例号码（样例数据须带“（示例）”）"
    if contact.email and not PLACEHOLDER_EMAIL.search(contact.email):
        return f"邮箱 {contact.email!r} 不是 example.com 示例地址"
    return None


def check_placeholders(located: list[Located]) -> Iterator[Problem]:
    """Sample data must not reach a real person nor borrow a real certificate number."""
    for item in located:
        entry = item.entry
        if isinstance(entry, Institution | Station):
            reason = _contact_problem(entry.contact)
            if reason:
                yield _error(item, reason)
        if isinstance(entry, Institution):
            for n, qualification in enumerate(entry.qualifications):
                if PLACEHOLDER_NUMBER not in qualification.number:
                    yield _error(item, f"qualifications[{n}].number 不是示例编号（须带“示例”）")


def check_review(located: list[Located], today: date) -> Iterator[Problem]:
    """Overdue reviews warn; an entry resting on a withdrawn source must be marked for review.

    An entry is marked for review when its ``review_due`` is on or before today, or when it
    is not published (a draft, or withdrawn).
    """
    for item in located:
        entry = item.entry
        marked = entry.review_due <= today or entry.status != "published"
        if entry.review_due < today:
            yield _warning(item, f"复审已到期（review_due {entry.review_due}）")
        for source in entry.sources:
            if source.withdrawn is None:
                continue
            if source.is_withdrawn(today):
                message = f"引用的 {source.label()}已于 {source.withdrawn} 废止"
                if marked:
                    yield _warning(item, message + "，已标记复审")
                else:
                    yield _error(item, message + "，须标记复审（review_due 不晚于今天）")
            elif entry.review_due > source.withdrawn:
                yield _warning(
                    item,
                    f"引用的 {source.label()}将于 {source.withdrawn} 废止，复审日期晚于废止日期",
                )


def check_standards(located: list[Located], today: date) -> Iterator[Problem]:
    """One row per standard code; the recorded status agrees with the dates (else a warning);
    an entry citing a standard the table says is withdrawn is told to record it."""
    first: dict[str, str] = {}
    table: dict[str, Standard] = {}
    for item in located:
        entry = item.entry
        if not isinstance(entry, Standard):
            continue
        if entry.key in first:
            yield _error(item, f"标准编号 {entry.code} 重复（已在 {first[entry.key]} 中登记）")
            continue
        first[entry.key] = entry.id
        table[entry.key] = entry
        now = entry.validity_on(today)
        if now != entry.validity:
            yield _warning(item, f"标准状态记为{entry.validity}，按日期今天应为{now}，请更新")
    for item in located:
        if isinstance(item.entry, Standard):
            continue
        for source in item.entry.sources:
            standard = table.get(standard_key(source.code))
            if standard and standard.withdrawn and source.withdrawn != standard.withdrawn:
                yield _warning(
                    item,
                    f"引用的 {source.code} 在标准表中废止于 {standard.withdrawn}，"
                    "依据中未记录该废止日期",
                )


def _counts(located: Iterable[Located]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(KINDS, 0)
    for item in located:
        counts[item.entry.kind] += 1
    return counts


def validate(
    root: Path | None = None, *, today: date | None = None, real_data: bool = False
) -> Report:
    """Run every check over the YAML files under ``root`` (default: the packaged data).

    Unless ``real_data`` is set, contacts and certificate numbers must be placeholders.
    """
    root = DATA_DIR if root is None else Path(root)
    today = today or date.today()
    located, problems = read_entries(root)
    if not root.is_dir():
        return Report(root=root, counts=_counts(located), problems=problems)
    problems += check_all(located, today=today, real_data=real_data)
    return Report(root=root, counts=_counts(located), problems=problems)


def check_all(located: list[Located], *, today: date, real_data: bool = False) -> list[Problem]:
    """Every check over parsed entries (the whole knowledge base, as files or an import)."""
    problems = duplicate_problems(located)
    problems += check_ids(located)
    problems += check_references(located)
    problems += check_text(located)
    problems += check_platform_sections(located)
    if not real_data:
        problems += check_placeholders(located)
    problems += check_review(located, today)
    problems += check_standards(located, today)
    return problems
