"""「你们能干啥」: what the platform offers, read from the knowledge — the services of each QI
domain and the special service modes — never a list written in code."""

import re

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import Option, buttons, china_today
from bot.actions.templates import phrase
from knowledge.constants import DOMAIN_LABELS, SPECIAL_SERVICE_IDS
from knowledge.schema import Service
from knowledge.store import KnowledgeBase

FEATURE = "answers"  # bot/templates/answers.yml

# Input patterns: a question about the platform as a whole (not one domain of it).
_WHOLE = re.compile(
    r"(你们|你|平台|这里|这儿|质量门诊|助手|小程序|公众号)(都|主要|一般|到底)?(能|可以|会|能够)"
    r"(帮我|帮企业|帮忙|为企业|为我们|给我们)?(干|做|办|提供|帮)(点)?(啥|什么|哪些)"
    r"|(有|提供)(哪些|什么|啥)(服务|业务|功能)|是(干|做)(啥|什么)的|能干啥|能做啥|能干嘛"
    r"|业务范围|服务范围|服务内容|服务项目有哪些"
)
_DOMAIN_WORDS = re.compile(r"计量|校准|检定|标准|认证|检验|检测|质量管理|知识产权|专利|商标")
SHORT_AT = re.compile(r"[（(：:]")
MAX_PER_DOMAIN = 3


def asks_capabilities(text: str) -> bool:
    """「你们能干啥」「平台能做什么」, but not 「计量方面平台能提供哪些服务」 (a FAQ of its own)."""
    return bool(_WHOLE.search(text)) and not _DOMAIN_WORDS.search(text)


def short_title(title: str) -> str:
    """「中小企业质量提升」 of 「中小企业质量提升：质量诊断与质量比对」: a title before its
    explanation (brackets, colon)."""
    return SHORT_AT.split(title, maxsplit=1)[0].strip()


def _served(knowledge: KnowledgeBase) -> list[Service]:
    today = china_today()
    return [s for s in knowledge.services if s.status == "published" and not s.under_review(today)]


def domain_lines(knowledge: KnowledgeBase) -> str:
    services = _served(knowledge)
    lines = []
    for domain, label in DOMAIN_LABELS.items():
        titles = [short_title(s.title) for s in services if s.domain == domain]
        titles = [t for t in titles if t]
        if domain == "other":
            titles = [
                short_title(s.title)
                for s in services
                if s.domain == "other" and s.id not in SPECIAL_SERVICE_IDS
            ]
        if not titles:
            continue
        shown = phrase(FEATURE, "capabilities.joiner").join(titles[:MAX_PER_DOMAIN])
        if len(titles) > MAX_PER_DOMAIN:
            shown += phrase(FEATURE, "capabilities.more", count=len(titles))
        lines.append(phrase(FEATURE, "capabilities.domain", domain=label, services=shown))
    return "\n".join(lines)


def mode_lines(knowledge: KnowledgeBase) -> str:
    by_id = {s.id: s for s in _served(knowledge)}
    return "\n".join(
        phrase(FEATURE, "capabilities.mode", title=by_id[i].title)
        for i in SPECIAL_SERVICE_IDS
        if i in by_id
    )


def domain_options(knowledge: KnowledgeBase) -> list[Option]:
    """One quick reply per domain that has services: it asks that domain's question."""
    present = {s.domain for s in _served(knowledge)}
    return [
        Option(label, phrase(FEATURE, "capabilities.ask_domain", domain=label))
        for domain, label in DOMAIN_LABELS.items()
        if domain in present and domain != "other"
    ]


def say_capabilities(dispatcher: CollectingDispatcher, knowledge: KnowledgeBase) -> None:
    dispatcher.utter_message(
        response="utter_capabilities",
        capability_domains=domain_lines(knowledge),
        capability_modes=mode_lines(knowledge),
        buttons=buttons(domain_options(knowledge)),
    )
