"""Telling the enterprise that its demand or complaint moved on, in its own channel.

The desk never imports the channels (DESIGN §3): it declares :class:`CaseNoticePort`, the
channels implement it (channels/case_notices.py: the web page's stream; a WeChat
customer-service message inside the 48-hour window, a template message outside it) and the app
wires it in. Whatever happens, the case's timeline says whether and how the enterprise was told,
or why not (a case entered from a call has no conversation to tell).
"""

import json
import logging
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from desk import cases
from desk.case_lookup.links import notice_conversation
from knowledge.masking import ERASED

log = logging.getLogger(__name__)

How = Literal["web", "wechat_message", "wechat_template"]
# what a notice asks of the enterprise: nothing, to evaluate a completed demand (§7.3), or
# whether a complaint's outcome satisfies it (§7.4.3)
Purpose = Literal["status", "evaluation", "complaint_result"]
CaseKindName = Literal["demand", "complaint", "review"]
HOW_WORDS: dict[str, str] = {
    "web": "网页会话",
    "wechat_message": "微信客服消息",
    "wechat_template": "微信模板消息",
}
CHANNELS_OFF = "会话通道未启用"
NOTICE_FAILED = "发送通知时出错，请稍后通过会话或电话告知企业"
NO_CONVERSATION = "{channel}录入，没有在线会话，未自动告知企业；请通过{channel}告知“{status}”。"
CONTACT_ERASED = "企业的联系方式已删除（撤回授权或超过保存期限），未告知企业"
KEPT = "；消息已保留，将在企业下次发来消息时显示"
INVITE_EVALUATION = "诚邀您对本次服务的流程、效率和态度进行评价，只需一分钟。"
ASK_SATISFIED = "您对处理结果是否满意？"
EVALUATE_NOW, LATER = "现在评价", "以后再说"
SATISFIED, NOT_SATISFIED = "满意", "不满意"


@dataclass(frozen=True)
class CaseNotice:
    """What the enterprise is told: ``text`` in full, and the parts a template message needs."""

    conversation_id: str
    number: str
    noun: str  # 需求 / 投诉
    status_label: str
    text: str
    purpose: Purpose = "status"
    # the answers offered (web: buttons; WeChat: numbered replies), as the bot's buttons
    buttons: tuple[dict[str, str], ...] = ()
    detail: str = ""  # the outcome of a complaint, a rejection's reason: for a template message
    # what the notice is about: a demand, a complaint, or a registration's review (§7.1.1.5)
    case_kind: CaseKindName = "demand"
    # a template message's own words where the purpose's do not fit (a review has no number)
    headline: str = ""  # "first"
    subject: str = ""  # keyword1; default the number
    remark: str = ""


@dataclass(frozen=True)
class NoticeResult:
    how: How | None  # None: not told
    reason: str | None = None  # why not, in Chinese
    kept: bool = False  # not told now: kept for the enterprise's next contact

    @property
    def told(self) -> bool:
        return self.how is not None


class CaseNoticePort(Protocol):
    def tell(self, session: Session, notice: CaseNotice) -> NoticeResult:
        """Put the notice on its way inside the caller's transaction (the caller commits)."""
        ...

    def wake(self, conversation_id: str) -> None:
        """After the commit: wake the web page's stream and the WeChat outbox."""
        ...


class NoChannels:
    """The desk alone (its tests, tools): nobody can be told."""

    def tell(self, session: Session, notice: CaseNotice) -> NoticeResult:
        return NoticeResult(how=None, reason=CHANNELS_OFF)

    def wake(self, conversation_id: str) -> None:
        return None


def get_case_notice_port() -> CaseNoticePort:
    """Overridden by the app with the channels' implementation."""
    return NoChannels()


def words(*, noun: str, number: str, status_label: str, extra: str = "") -> str:
    text = f"【质量门诊】您的{noun}（编号 {number}）进展更新：{status_label}。"
    return text + (extra.strip() + ("" if extra.strip().endswith("。") else "。") if extra else "")


def purpose_of(kind: cases.CaseKind[Any], case: Any) -> Purpose:
    if kind.name == "demand" and case.status == "completed":
        return "evaluation"
    if kind.name == "complaint" and case.status == "resolved":
        return "complaint_result"
    return "status"


def answers(purpose: Purpose, number: str) -> tuple[dict[str, str], ...]:
    """The buttons of the notice: their payloads are the bot's intents, naming the case."""
    entity = json.dumps({"case_number": number})
    if purpose == "evaluation":
        return (
            {"title": EVALUATE_NOW, "payload": f"/give_feedback{entity}"},
            {"title": LATER, "payload": "/feedback_later"},
        )
    if purpose == "complaint_result":
        return (
            {"title": SATISFIED, "payload": f"/complaint_satisfied{entity}"},
            {"title": NOT_SATISFIED, "payload": f"/complaint_unsatisfied{entity}"},
        )
    return ()


def notice_for(
    kind: cases.CaseKind[Any], case: Any, *, conversation_id: str, extra: str = ""
) -> CaseNotice:
    """What the enterprise is told of the case's new status, and what it is asked."""
    label = kind.labels[case.status]
    number = kind.subject(case)
    purpose = purpose_of(kind, case)
    text = words(noun=kind.noun, number=number, status_label=label, extra=extra)
    if purpose == "evaluation":
        text += INVITE_EVALUATION
    elif purpose == "complaint_result":
        text += ASK_SATISFIED
    return CaseNotice(
        conversation_id=conversation_id,
        number=number,
        noun=kind.noun,
        status_label=label,
        text=text,
        purpose=purpose,
        case_kind="demand" if kind.name == "demand" else "complaint",
        buttons=answers(purpose, number),
        detail=(getattr(case, "resolution", None) or "") if purpose == "complaint_result" else "",
    )


def tell_enterprise(
    session: Session,
    kind: cases.CaseKind[Any],
    case: Any,
    *,
    port: CaseNoticePort,
    actor: str,
    extra: str = "",
    channel_label: str = "",
) -> NoticeResult:
    """Tell the enterprise the case's new status and record on its timeline how, or why not;
    commits, then wakes the channel."""
    label = kind.labels[case.status]
    conversation_id = notice_conversation(
        session, number=kind.subject(case), default=case.conversation_id
    )
    if not conversation_id and getattr(case, "contact_name", None) == ERASED:
        reason = CONTACT_ERASED  # nobody to call: the enterprise withdrew, or retention ran out
        result = NoticeResult(how=None, reason=reason)
        note = reason
    elif not conversation_id:
        reason = NO_CONVERSATION.format(channel=channel_label or "线下", status=label)
        result = NoticeResult(how=None, reason=reason)
        note = result.reason or ""
    else:
        notice = notice_for(kind, case, conversation_id=conversation_id, extra=extra)
        try:
            result = port.tell(session, notice)
        except Exception:  # the move is done; the timeline says the enterprise was not told
            log.exception("case notice failed case=%s", notice.number)
            session.rollback()
            result = NoticeResult(how=None, reason=NOTICE_FAILED)
        if result.how is not None:
            note = f"已通过{HOW_WORDS[result.how]}告知企业：“{label}”。"
        else:
            kept = KEPT if result.kept else ""
            note = f"未能告知企业：{(result.reason or '原因不明').rstrip('。')}{kept}。"
    cases.record_step(
        session,
        kind,
        case,
        actor=actor,
        note=note,
        action="notice",
        details={
            "how": result.how,
            "reason": result.reason,
            "status": case.status,
            "kept": result.kept,
            "conversation_id": conversation_id,
        },
    )
    session.commit()
    if result.told and conversation_id:
        port.wake(conversation_id)
    return result
