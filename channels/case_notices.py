"""The channels' side of :class:`desk.case_notices.CaseNoticePort`: a demand's or a complaint's
news reaches the enterprise where it talked to us.

* web chat: a ``system`` line in the transcript; the page's stream shows it once woken;
* WeChat inside the customer-service window (48 h since the follower's last message, quota
  left): the same line, sent by the outbox as a customer-service message;
* WeChat outside it: a template message (``QCLINIC_WECHAT_TEMPLATE_CASE``) sent now; without a
  template, or for a follower who left, the reason is returned (the desk's timeline shows it).
"""

import asyncio
import logging
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import requests
from sqlalchemy.orm import Session

from channels import transcript
from channels.expert_window import WEB, WECHAT, WECHAT_OFF, ExpertWindow
from channels.models import OutboxMessage, utcnow
from channels.settings import ChannelSettings
from channels.wechat.window import ensure_contact, openid_of
from desk.case_notices import CaseNotice, NoticeResult
from desk.clock import now
from desk.live.notifier import Notifier

if TYPE_CHECKING:
    from channels.wechat.channel import WeChatChannel

log = logging.getLogger(__name__)
CHINA = ZoneInfo("Asia/Shanghai")

NO_TEMPLATE = "未配置进展通知模板消息（QCLINIC_WECHAT_TEMPLATE_CASE）"
LEFT = "用户已取消关注公众号"
TEMPLATE_FAILED = "微信模板消息发送失败：{reason}"
NOT_REACHED = "无法连接微信服务器"
UNKNOWN_CHANNEL = "无法识别企业所在的会话通道"
TEMPLATE_REMARK = "回复本公众号任意消息，可查询详细进展。"


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
        self._template_id = settings.wechat_template_case
        self._window = ExpertWindow(
            wechat=wechat,
            quota=settings.wechat_cs_quota,
            window_h=settings.wechat_cs_window_h,
            template_id=self._template_id,
        )
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
            return NoticeResult(how=None, reason=WECHAT_OFF.rstrip("。"))
        window = self._window.window(
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
                    content=row.text,
                    status="pending",
                    attempts=0,
                    created_at=utcnow(),
                )
            )
            return NoticeResult(how="wechat_message")
        if not window.template_available:
            left = window.reason is not None and "取消关注" in window.reason
            reason = LEFT if left else (window.reason or "").rstrip("。")
            if self._template_id is None:
                reason = f"{reason}；{NO_TEMPLATE}" if reason else NO_TEMPLATE
            return NoticeResult(how=None, reason=reason)
        return self._template(session, notice)

    def _line(
        self, session: Session, notice: CaseNotice, channel: str, *, delivery: dict[str, Any] | None
    ) -> transcript.ChatMessage:
        payload: dict[str, object] = {"notice": "case", "case": notice.number}
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

    def _template(self, session: Session, notice: CaseNotice) -> NoticeResult:
        """A template message now (blocking: the desk's route runs in a worker thread)."""
        from channels.wechat.client import WeChatApiError

        assert self._wechat is not None and self._template_id is not None
        client = self._wechat.client
        if client is None:
            return NoticeResult(how=None, reason="公众号未配置 AppID 和 AppSecret")
        data = {
            "first": {"value": f"您的{notice.noun}有新的进展"},
            "keyword1": {"value": notice.number},
            "keyword2": {"value": notice.status_label},
            "keyword3": {"value": now().astimezone(CHINA).strftime("%Y-%m-%d %H:%M")},
            "remark": {"value": TEMPLATE_REMARK},
        }
        try:
            client.message.send_template(openid_of(notice.conversation_id), self._template_id, data)
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
