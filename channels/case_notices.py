"""The channels' side of :class:`desk.case_notices.CaseNoticePort`: a demand's or a complaint's
news reaches the enterprise where it talked to us.

* web chat: a ``system`` line in the transcript; the page's stream shows it once woken;
* WeChat inside the customer-service window (48 h since the follower's last message, quota
  left): the same line, sent by the outbox as a customer-service message;
* WeChat outside it: a template message sent now (``QCLINIC_WECHAT_TEMPLATE_CASE`` for a status,
  ``_EVALUATION`` for the invitation to evaluate a completed demand, ``_COMPLAINT`` for a
  complaint's outcome); without a template, when WeChat refuses it or cannot be reached, or for a
  follower who left, the notice is kept and shown at the enterprise's next contact
  (channels/kept_notices.py), and the reason is returned (the desk's timeline shows it);
* an enterprise that withdrew its consent (撤回授权) gets no template message, the one push it did
  not ask for at that moment: the notice is kept for its next contact.

An invitation's or an outcome's answers go with it: buttons on the web page, numbered replies on
WeChat (a digit answers the notice while it is the newest line: channels/lifecycle.py).
"""

import asyncio
import logging
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import requests
from sqlalchemy.orm import Session

from channels import kept_notices, transcript
from channels.expert_window import WEB, WECHAT, WECHAT_OFF, ExpertWindow
from channels.models import OutboxMessage, utcnow
from channels.settings import ChannelSettings
from channels.wechat.render import render_turn
from channels.wechat.window import ensure_contact, openid_of
from desk.case_notices import CaseNotice, NoticeResult
from desk.clock import now
from desk.live.notifier import Notifier
from desk.privacy.service import withdrawn

if TYPE_CHECKING:
    from channels.wechat.channel import WeChatChannel

log = logging.getLogger(__name__)
CHINA = ZoneInfo("Asia/Shanghai")

NO_TEMPLATE = "未配置{what}模板消息（{setting}）"
TEMPLATES = {  # purpose → (what it is, its setting)
    "status": ("进展通知", "QCLINIC_WECHAT_TEMPLATE_CASE"),
    "evaluation": ("评价邀请", "QCLINIC_WECHAT_TEMPLATE_EVALUATION"),
    "complaint_result": ("投诉处理结果", "QCLINIC_WECHAT_TEMPLATE_COMPLAINT"),
}
LEFT = "用户已取消关注公众号"
TEMPLATE_FAILED = "微信模板消息发送失败：{reason}"
NOT_REACHED = "无法连接微信服务器"
WITHDRAWN = "企业已撤回授权，不再主动发送模板消息"
UNKNOWN_CHANNEL = "无法识别企业所在的会话通道"
TEMPLATE_REMARK = "回复本公众号任意消息，可查询详细进展。"
TEMPLATE_WORDS = {  # purpose → (first, keyword2 or None for the status, remark)
    "status": ("您的{noun}有新的进展", None, TEMPLATE_REMARK),
    "evaluation": (
        "您的需求已服务完成，诚邀您评价",
        "已完成，待评价",
        "回复“评价”即可为本次服务的流程、效率和态度打分。",
    ),
    "complaint_result": (
        "您的投诉已处理完毕",
        None,
        "回复“满意”或“不满意”告诉我们您对处理结果的看法。",
    ),
}
KEYWORD_LIMIT = 100  # characters of a template field


def _clip(value: str) -> str:
    return value if len(value) <= KEYWORD_LIMIT else value[: KEYWORD_LIMIT - 1] + "…"


def channel_of(conversation_id: str) -> str | None:
    if conversation_id.startswith("web:"):
        return WEB
    if conversation_id.startswith("wx:"):
        return WECHAT
    return None


class CaseNotices:
    """Tells enterprises of their cases' news (the desk's CaseNoticePort)."""

    def __init__(
        self,
        *,
        settings: ChannelSettings,
        notifier: Notifier,
        wechat: "WeChatChannel | None",
    ) -> None:
        self._notifier = notifier
        self._wechat = wechat
        self._templates: dict[str, str | None] = {
            "status": settings.wechat_template_case,
            "evaluation": settings.wechat_template_evaluation,
            "complaint_result": settings.wechat_template_complaint,
        }
        self._windows = {
            purpose: ExpertWindow(
                wechat=wechat,
                quota=settings.wechat_cs_quota,
                window_h=settings.wechat_cs_window_h,
                template_id=template_id,
            )
            for purpose, template_id in self._templates.items()
        }
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # built outside the app's loop (tools): nothing to wake
            self._loop = None

    def tell(self, session: Session, notice: CaseNotice) -> NoticeResult:
        channel = channel_of(notice.conversation_id)
        if channel == WEB:
            self._line(session, notice, channel, delivery=None)
            return NoticeResult(how="web")
        if channel != WECHAT:
            return NoticeResult(how=None, reason=UNKNOWN_CHANNEL)
        if self._wechat is None:
            return self._keep(session, notice, WECHAT_OFF.rstrip("。"))
        template_id = self._templates[notice.purpose]
        window = self._windows[notice.purpose].window(
            session, conversation_id=notice.conversation_id, channel=channel
        )
        if window.free_text:
            row = self._line(
                session, notice, channel, delivery=transcript.delivery("pending", "send")
            )
            session.flush()
            openid = openid_of(notice.conversation_id)
            ensure_contact(session, openid)
            session.add(  # a message of its own, whose delivery the line follows
                OutboxMessage(
                    openid=openid,
                    chat_message_id=row.id,
                    content=render_turn([transcript.public(row)]),  # answers numbered
                    status="pending",
                    attempts=0,
                    created_at=utcnow(),
                )
            )
            return NoticeResult(how="wechat_message")
        if not window.template_available:
            left = window.reason is not None and "取消关注" in window.reason
            reason = LEFT if left else (window.reason or "").rstrip("。")
            if template_id is None:
                what, setting = TEMPLATES[notice.purpose]
                missing = NO_TEMPLATE.format(what=what, setting=setting)
                reason = f"{reason}；{missing}" if reason else missing
            return self._keep(session, notice, reason)
        if withdrawn(session, conversation_id=notice.conversation_id):  # no unasked pushes
            return self._keep(session, notice, WITHDRAWN)
        assert template_id is not None
        result = self._template(session, notice, template_id)
        if result.how is None:
            return self._keep(session, notice, result.reason or NOT_REACHED)
        return result

    @staticmethod
    def _keep(session: Session, notice: CaseNotice, reason: str) -> NoticeResult:
        """Not told now: kept for the next contact (never dropped)."""
        kept_notices.keep(session, notice, reason=reason)
        return NoticeResult(how=None, reason=reason, kept=True)

    def _line(
        self, session: Session, notice: CaseNotice, channel: str, *, delivery: dict[str, Any] | None
    ) -> transcript.ChatMessage:
        payload: dict[str, object] = {
            "notice": "case",
            "case": notice.number,
            "buttons": [dict(b) for b in notice.buttons],
        }
        if delivery is not None:
            payload["delivery"] = delivery
        return transcript.record(
            session,
            conversation_id=notice.conversation_id,
            channel=channel,
            sender="system",
            text=notice.text,
            payload=payload,
        )

    def _template(self, session: Session, notice: CaseNotice, template_id: str) -> NoticeResult:
        """A template message now (blocking: the desk's route runs in a worker thread)."""
        from channels.wechat.client import WeChatApiError

        assert self._wechat is not None
        client = self._wechat.client
        if client is None:
            return NoticeResult(how=None, reason="公众号未配置 AppID 和 AppSecret")
        first, news, remark = TEMPLATE_WORDS[notice.purpose]
        if notice.detail and notice.purpose != "evaluation":  # an outcome, a rejection's reason
            news = f"{notice.status_label}：{notice.detail}"
        values = {
            "first": notice.headline or first.format(noun=notice.noun),
            "keyword1": notice.subject or notice.number,
            "keyword2": news or notice.status_label,
            "keyword3": now().astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
            "remark": notice.remark or remark,
        }
        data = {key: {"value": _clip(value)} for key, value in values.items()}
        try:
            client.message.send_template(openid_of(notice.conversation_id), template_id, data)
        except WeChatApiError as exc:
            log.warning("case notice template refused code=%s", exc.errcode)
            reason = exc.errmsg if exc.errcode is not None else NOT_REACHED
            return NoticeResult(how=None, reason=TEMPLATE_FAILED.format(reason=reason))
        except requests.RequestException as exc:
            log.warning("case notice template not sent error=%r", exc)
            return NoticeResult(how=None, reason=TEMPLATE_FAILED.format(reason=NOT_REACHED))
        self._line(session, notice, WECHAT, delivery=transcript.delivery("sent", "template"))
        return NoticeResult(how="wechat_template")

    def wake(self, conversation_id: str) -> None:
        self._notifier.publish_threadsafe(conversation_id)  # the web page, the consoles
        if self._wechat is not None and self._loop is not None and not self._loop.is_closed():
            asyncio.run_coroutine_threadsafe(self._wechat.outbox.wake(), self._loop)
