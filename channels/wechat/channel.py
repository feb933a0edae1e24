"""The WeChat channel's parts wired together: envelope, API client, outbox, conversations."""

from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply

from channels.contracts import Incoming, Outcome
from channels.conversations import Conversations
from channels.settings import ChannelSettings
from channels.wechat import inbound, media
from channels.wechat.client import ApiClient, storage_and_lock
from channels.wechat.outbox import WeChatOutbox
from channels.wechat.render import render_turn, split_text
from channels.wechat.security import Envelope
from desk.db import get_sessionmaker


def _cdata_safe(text: str) -> str:
    return text.replace("]]>", "]] >")


class WeChatChannel:
    def __init__(self, settings: ChannelSettings, conversations: Conversations) -> None:
        assert settings.wechat_token is not None and settings.database_url is not None
        aes_key = settings.wechat_aes_key
        self.envelope = Envelope(
            token=settings.wechat_token.get_secret_value(),
            app_id=settings.wechat_app_id,
            aes_key=aes_key.get_secret_value() if aes_key else None,
            max_skew_s=settings.wechat_max_clock_skew_s,
        )
        self.settings = settings
        self.deadline_s = settings.wechat_reply_deadline_s
        self.client: ApiClient | None = None
        if settings.wechat_app_id and settings.wechat_app_secret:
            storage, lock = storage_and_lock(settings.redis_url, settings.wechat_app_id)
            self.client = ApiClient(
                settings.wechat_app_id,
                settings.wechat_app_secret.get_secret_value(),
                api_base=settings.wechat_api_base,
                timeout_s=settings.wechat_api_timeout_s,
                storage=storage,
                lock=lock,
            )
        self.outbox = WeChatOutbox(
            sessions=get_sessionmaker(settings.database_url),
            client=lambda: self.client,
            quota=settings.wechat_cs_quota,
            window=timedelta(hours=settings.wechat_cs_window_h),
            retry_interval_s=settings.retry_interval_s,
        )
        conversations.register(inbound.CHANNEL, self.outbox)

    async def with_media(self, incoming: Incoming, message: BaseMessage) -> Incoming:
        """An image or file of a registering customer: fetched, stored, announced to the bot."""
        return await media.attach(
            incoming,
            message,
            client=self.client,
            sessions=self.outbox.sessions,
            settings=self.settings,
        )

    async def reply(self, message: BaseMessage, outcome: Outcome) -> str | None:
        """The passive reply's XML, or None for 'success'; what does not fit goes out later."""
        if outcome.state == "later" or not outcome.messages:
            return None
        first, *rest = split_text(render_turn(outcome.messages)) or [""]
        if not first:
            return None
        if rest and not outcome.duplicate:
            await run_in_threadpool(self._queue, message.source, rest, outcome.inbound_id)
            await self.outbox.wake()
        return self.text_reply(message, first)

    def text_reply(self, message: BaseMessage, text: str) -> str:
        """A passive text reply's XML (before sealing)."""
        reply = TextReply(source=message.target, target=message.source, content=_cdata_safe(text))
        return str(reply.render())

    def _queue(self, openid: str, pieces: list[str], inbound_id: int) -> None:
        with self.outbox.sessions() as session:
            self.outbox.enqueue_texts(session, inbound.conversation_id(openid), pieces, inbound_id)
            session.commit()
