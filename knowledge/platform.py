"""The platform's real sections and functions, and a check that a text names no other.

An answer must never send a user to a screen, column, menu or function the platform does not
have (issue 14). ``PLATFORM_SECTIONS`` is the one list of what exists today: the two chat
channels and what the assistant does in them, the Official Account's menu, the offline stations
and the telephone, and the service catalogue beside the web chat and in the menu.

``references(text)`` finds every place a text points the user somewhere — a quoted name followed
by 栏目/页面/菜单/…, a 「…」 name, a "我的…" page, an SMS or in-site-message promise, a log-in or
online sign-up step — and ``unknown_references(text)`` keeps those not in the list. The knowledge
validator and the tests run it over every knowledge answer and every bot text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Section:
    """A section or function a user can really reach today."""

    name: str
    what: str  # one line: what it is and where the user finds it
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


PLATFORM_SECTIONS: Final[tuple[Section, ...]] = (
    # the two channels
    Section("网页对话", "网页版质量门诊助手：在网页上与助手对话", ("网页版咨询", "网页版", "网页")),
    Section("微信公众号", "在公众号里与质量门诊助手对话", ("公众号",)),
    Section(
        "公众号菜单",
        "公众号底部菜单：办事服务（含服务目录）、进度投诉、人工专家（channels/wechat/menu.py）",
        ("底部菜单", "菜单"),
    ),
    Section("办事服务", "公众号菜单一级项：服务目录、提出服务需求、办事咨询、在对话中注册"),
    Section("进度投诉", "公众号菜单一级项：查询办理进度、我要投诉"),
    Section("人工专家", "公众号菜单一级项：转人工专家、网页版咨询"),
    # what the assistant does in either chat (bot/domain)
    Section(
        "质量门诊", "与助手对话；需要时转接行业专家网上问诊（§5.3 a）", ("质量门诊助手", "助手")
    ),
    Section(
        "提出服务需求",
        "在对话中说明需求，助手推荐服务和机构并登记需求、给出需求编号（§7.2）",
        ("提需求", "办需求", "发布需求", "登记需求"),
    ),
    Section("办事咨询", "在对话中问流程、材料、时限、站点、收费（知识库问答）", ("问流程",)),
    Section(
        "查询办理进度",
        "在对话中回复“查进度”，查看本会话提交的需求和投诉的状态与期限（§5.1 d）",
        ("查进度", "查询进度", "查询我的办理进度"),
    ),
    Section("我要投诉", "在对话中投诉服务机构，生成投诉受理编号（§7.4.2）", ("投诉",)),
    Section("评价服务", "在对话中评价已办结的服务：流程、效率、态度（§7.3）", ("评价",)),
    Section("转人工专家", "在对话中回复“转人工”，由工作人员或专家接手对话", ("转人工", "转专家")),
    Section("注册指引", "在对话中了解普通用户和企业用户的注册材料与审核时限（§7.1）"),
    Section(
        "在对话中注册",
        "在对话中回复“我要注册”：填写信息、上传附件、提交审核；“补充资料”重新提交，"
        "“企业改名了”提交名称变更（§7.1.1，bot/domain/registration.yml）",
        ("对话中注册", "补充资料"),
    ),
    Section(
        "上传材料",
        "网页对话输入框旁的按钮，上传注册材料（PDF、JPG、PNG）；微信中直接发送图片或文件",
        ("上传按钮",),
    ),
    # the self-service catalogue (desk/catalogue, channels/web/static/catalogue.js,
    # bot/actions/catalogue.py)
    Section(
        "服务目录",
        "网页对话旁的服务目录（手机上点页面顶部的“服务目录”）、公众号菜单“服务目录”和对话中回复"
        "“服务目录”：按领域浏览服务事项、服务机构和线下站点，查看受理条件、办事材料、服务流程和"
        "服务承诺，可按关键词搜索（§7.2.1）",
        ("服务事项目录", "分类检索", "目录"),
    ),
    Section(
        "咨询这项服务",
        "服务目录中每项服务和每个机构的按钮：在对话中为这项服务登记需求，不必再说明要办什么",
    ),
    # off line
    Section(
        "线下站点",
        "质量基础设施一站式服务站点（knowledge/data/stations.yaml）：需求登记、样品接收、报告发放",
        ("服务站点", "站点", "质量基础设施一站式服务站点"),
    ),
    Section("站点电话", "各站点公示的联系电话和监督投诉电话", ("电话", "监督投诉电话")),
)

KNOWN_NAMES: Final[frozenset[str]] = frozenset(n for s in PLATFORM_SECTIONS for n in s.names)

_Q = "“「『\"'"  # opening quotes
_E = "”」』\"'"  # closing quotes
_NAME = rf"[{_Q}]([^{_Q}{_E}\n]{{1,24}})[{_E}]"
_SECTION_WORD = r"(?:栏目|页面|菜单|模块|专区|专栏|板块|频道|界面|入口)"
_GO = r"(?:在|进入|打开|点击|点选|前往|登录后在|登录平台在)"
_MINE = r"需求|投诉|订单|账号|账户|报告|证书|消息|评价|预约|申请|企业|收藏|进度"
_LEAD = re.compile(r"^.*[在的到入开往]")  # the words before a name caught without quotes

# (pattern, name of what it points to: None = the pattern's first group)
_HAN = r"[\u4e00-\u9fff]"
_MY_PAGE = rf"(?:[{_Q}]|{_GO})(我的(?:{_MINE})[^，。；、\s{_E}]{{0,6}})"
_CENTRE = rf"(个人中心|用户中心|会员中心|消息中心|企业中心|企业信息—{_HAN}{{1,6}})"
_SELF_SERVICE = (
    r"(?:在|通过)(?:线上)?平台(?:上)?(?:随时|自助)?(?:查询|查看|检索|选择|下载|打印|输入)"
)

# (pattern, name of what it points to: None = the pattern's first group)
_PATTERNS: Final[tuple[tuple[re.Pattern[str], str | None], ...]] = (
    # “培训”栏目, 「报告证书」页面
    (re.compile(_NAME + r"\s*" + _SECTION_WORD), None),
    # 「我的需求—反映问题」: the platform's texts quote only what the user types, with “”
    (re.compile(r"「([^」\n]{1,24})」"), None),
    # 在“我的需求”中, 点击“反映问题”, 进入“报告证书”
    (re.compile(_GO + r"(?:平台|网站|页面)?(?:的)?\s*" + _NAME), None),
    # 平台仪器共享目录, 注册页面, 培训信息栏目 (no quotes)
    (re.compile(rf"({_HAN}{{2,8}}?)" + _SECTION_WORD.replace("菜单|", "")), None),
    (re.compile(rf"(?:平台|网站)({_HAN}{{2,8}}?)目录"), None),
    # "我的…" pages and account centres
    (re.compile(_MY_PAGE), None),
    (re.compile(_CENTRE), None),
    # self-service screens that do not exist yet (the catalogue of issue 14 is added here later)
    (re.compile(r"(?:平台|网站)?首页"), "平台首页"),
    (re.compile(rf"在(?:线上)?平台({_HAN}{{2,8}}?)中"), None),
    (re.compile(_SELF_SERVICE), "平台自助"),
    # notification channels the platform does not have
    (re.compile(r"短信"), "短信通知"),
    (re.compile(r"站内信|站内消息|站内通知|平台消息|平台站内"), "站内信"),
    (re.compile(r"邮件通知|邮件提醒"), "邮件通知"),
    (re.compile(r"订阅"), "订阅通知"),
    (re.compile(r"推送"), "消息推送"),
    # functions the platform does not have (no enterprise log-in, no online order or sign-up)
    (re.compile(r"登录|登陆"), "账号登录"),
    (re.compile(r"在线下单|网上下单"), "在线下单"),
    (re.compile(r"(?:在线|网上)报名|报名表"), "在线报名"),
    (re.compile(r"(?:在线|网上)(?:下载|打印)|下载电子版"), "在线下载报告证书"),
)


@dataclass(frozen=True)
class Reference:
    """A place ``text`` points the user to, and the words that do it."""

    name: str
    words: str


def references(text: str) -> Iterator[Reference]:
    """Every section, page, menu, channel or function the text points to."""
    for pattern, fixed in _PATTERNS:
        for match in pattern.finditer(text):
            yield Reference(name=fixed or _name(text, match), words=match.group(0))


def _name(text: str, match: re.Match[str]) -> str:
    name = match.group(1).strip()
    quoted = match.start(1) > 0 and text[match.start(1) - 1] in _Q
    if quoted or name.startswith("我的"):
        return name
    return _LEAD.sub("", name) or name  # 书在企业用户注册页面 → 企业用户注册


def is_known(name: str) -> bool:
    """True when ``name`` is one of the real sections, or ends with one (平台网页对话页面).

    A "我的…" page must be named exactly: 「我的投诉」 is no section even though 投诉 is a function.
    """
    if name in KNOWN_NAMES:
        return True
    if name.startswith("我的"):
        return False
    return any(name.endswith(known) for known in KNOWN_NAMES if len(known) >= 3)


def unknown_references(text: str) -> list[Reference]:
    """The references of ``text`` to sections or functions the platform does not have."""
    out: dict[str, Reference] = {}
    for ref in references(text):
        if (
            "{" in ref.name
        ):  # a response's placeholder (「{service}」): a knowledge title, no section
            continue
        if not is_known(ref.name):
            out.setdefault(ref.name, ref)  # one per name, the first words that name it
    return list(out.values())
