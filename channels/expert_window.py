"""Whether an expert's free text can reach the enterprise now, and why not: web always; WeChat
within the customer-service window of 48 h and 5 messages that the outbox keeps per follower
(channels/wechat/window.py), with the reasons the console shows in Chinese."""

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from channels.models import WeChatContact, as_utc, utcnow
from channels.wechat.window import openid_of
from desk.consultations.schemas import Window

if TYPE_CHECKING:
    from channels.wechat.channel import WeChatChannel

WEB, WECHAT = "web", "wechat"

CLOSED = "用户最后一次发消息已超过{hours}小时，客服消息窗口已关闭。"
SPENT = "{hours}小时内的{quota}条客服消息已用完。"
UNSUBSCRIBED = "用户已取消关注公众号。"
NO_CONTACT = "用户尚未在公众号中发过消息，暂时无法发送客服消息。"
NO_API = "公众号未配置 AppID 和 AppSecret，无法主动发送消息。"
WECHAT_OFF = "公众号通道未启用。"


def _hours(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class ExpertWindow:
    """The window rules of the channels' settings (quota, hours, template configured)."""

    wechat: "WeChatChannel | None"
    quota: int
    window_h: float
    template_id: str | None

    def window(self, session: Session, *, conversation_id: str, channel: str) -> Window:
        if channel != WECHAT:
            return Window(channel=channel, free_text=True)
        if self.wechat is None:
            return Window(channel=channel, free_text=False, reason=WECHAT_OFF)
        if self.wechat.client is None:
            return Window(channel=channel, free_text=False, reason=NO_API)
        contact = session.get(WeChatContact, openid_of(conversation_id))
        if contact is None:
            return Window(
                channel=channel,
                free_text=False,
                reason=NO_CONTACT,
                remaining=0,
                template_available=self.template_id is not None,
            )
        last = as_utc(contact.last_contact_at) or utcnow()
        until = last + timedelta(hours=self.window_h)
        remaining = max(0, self.quota - contact.window_sent)
        reason = None
        if not contact.subscribed:
            reason = UNSUBSCRIBED
        elif until <= utcnow():
            reason = CLOSED.format(hours=_hours(self.window_h))
        elif remaining == 0:
            reason = SPENT.format(hours=_hours(self.window_h), quota=self.quota)
        return Window(
            channel=channel,
            free_text=reason is None,
            reason=reason,
            remaining=remaining if reason is None else 0,
            until=until,
            # a template reaches a follower outside the window, not one who left
            template_available=self.template_id is not None and bool(contact.subscribed),
        )
