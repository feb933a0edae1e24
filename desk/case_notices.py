"""Telling the enterprise that its demand or complaint moved on, in its own channel.

The desk never imports the channels (DESIGN §3): it declares :class:`CaseNoticePort`, the
channels implement it (channels/case_notices.py: the web page's stream; a WeChat
customer-service message inside the 48-hour window, a template message outside it) and the app
wires it in. Whatever happens, the case's timeline says whether and how the enterprise was told,
or why not (a case entered from a call has no conversation to tell).
"""

import logging
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from desk import cases

log = logging.getLogger(__name__)

How = Literal["web", "wechat_message", "wechat_template"]
HOW_WORDS: dict[str, str] = {
    "web": "网页会话",
    "wechat_message": "微信客服消息",
    "wechat_template": "微信模板消息",
}
CHANNELS_OFF = "会话通道未启用"
NOTICE_FAILED = "发送通知时出错，请稍后通过会话或电话告知企业"
NO_CONVERSATION = "{channel}录入，没有在线会话，未自动告知企业；请通过{channel}告知“{status}”。"


@dataclass(frozen=True)
class CaseNotice:
    """What the enterprise is told: ``text`` in full, and the parts a template message needs."""

    conversation_id: str
    number: str
    noun: str  # 需求 / 投诉
    status_label: str
    text: str


@dataclass(frozen=True)
class NoticeResult:
    how: How | None  # None: not told
    reason: str | None = None  # why not, in Chinese

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
    if not case.conversation_id:
        reason = NO_CONVERSATION.format(channel=channel_label or "线下", status=label)
        result = NoticeResult(how=None, reason=reason)
        note = result.reason or ""
    else:
        notice = CaseNotice(
            conversation_id=case.conversation_id,
            number=kind.subject(case),
            noun=kind.noun,
            status_label=label,
            text=words(noun=kind.noun, number=kind.subject(case), status_label=label, extra=extra),
        )
        try:
            result = port.tell(session, notice)
        except Exception:  # the move is done; the timeline says the enterprise was not told
            log.exception("case notice failed case=%s", notice.number)
            session.rollback()
            result = NoticeResult(how=None, reason=NOTICE_FAILED)
        if result.how is not None:
            note = f"已通过{HOW_WORDS[result.how]}告知企业：“{label}”。"
        else:
            note = f"未能告知企业：{(result.reason or '原因不明').rstrip('。')}。"
    cases.record_step(
        session,
        kind,
        case,
        actor=actor,
        note=note,
        action="notice",
        details={"how": result.how, "reason": result.reason, "status": case.status},
    )
    session.commit()
    if result.told and case.conversation_id:
        port.wake(case.conversation_id)
    return result
