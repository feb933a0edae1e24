"""An expert's reply through the enterprise's own channel: the web page's stream, a WeChat
customer-service message by the outbox (sent now, or held for the next contact), or a WeChat
template message once the window is closed. Once per ``client_id``, in any process: the send
claims the unique ``chat_inbound.dedupe_key`` ``expert:<conversation>:<client id>`` in the
transaction that records the line (and its outbox row), so a second call, here or in another
process, waits for the first transaction and then finds its line."""

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import requests
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from channels import lifecycle, transcript
from channels.expert_window import CLOSED, NO_API, WECHAT, WECHAT_OFF, ExpertWindow
from channels.models import InboundMessage, OutboxMessage, utcnow
from channels.transcript import ChatMessage, line_of
from channels.wechat.window import ensure_contact, openid_of
from desk.consultations.schemas import SendMode, TranscriptLine
from desk.errors import DeskError
from desk.escalations.service import active_escalation
from desk.live.notifier import Notifier

if TYPE_CHECKING:
    from channels.wechat.channel import WeChatChannel

log = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")

TEMPLATE_OFF = "未配置模板消息（QCLINIC_WECHAT_TEMPLATE_REPLY），无法发送模板消息。"
TEMPLATE_WEB = "网页会话无需模板消息，请直接发送。"
TEMPLATE_FIRST = "您好，质量门诊专家回复了您的咨询。"
TEMPLATE_REMARK = "回复本公众号任意消息，即可继续咨询。"
TEMPLATE_NOT_REACHED = "无法连接微信服务器，模板消息未发出。"


class WindowClosed(DeskError):
    """Free text cannot reach the WeChat user now; the message says why."""

    code = "window_closed"
    status = 409


class TemplateUnavailable(DeskError):
    code = "template_unavailable"
    status = 409


class ChannelUnavailable(DeskError):
    code = "channel_unavailable"
    status = 503


@dataclass(frozen=True)
class _Stored:
    line: TranscriptLine
    fresh: bool  # False: the same client id was sent before (this is that line)


class ExpertReplies:
    """Sends an expert's lines, once per client id."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        notifier: Notifier,
        wechat: "WeChatChannel | None",
        window: ExpertWindow,
    ) -> None:
        self._sessions = sessions
        self._notifier = notifier
        self._wechat = wechat
        self._window = window
        self._template_id = window.template_id

    async def send(
        self,
        *,
        conversation_id: str,
        channel: str,
        text: str,
        mode: SendMode,
        author: str,
        client_id: str,
    ) -> TranscriptLine:
        text = text.strip()
        if channel == WECHAT:
            if self._wechat is None:
                raise ChannelUnavailable(WECHAT_OFF)
            if self._wechat.client is None:
                raise ChannelUnavailable(NO_API)
        if mode == "template" and channel != WECHAT:
            raise TemplateUnavailable(TEMPLATE_WEB)
        if mode == "template" and self._template_id is None:
            raise TemplateUnavailable(TEMPLATE_OFF)
        stored = await run_in_threadpool(
            self._store, conversation_id, channel, text, mode, author, client_id
        )
        if not stored.fresh:
            return stored.line
        line = stored.line
        if channel == WECHAT and mode == "template":
            line = await run_in_threadpool(self._send_template, conversation_id, line)
        await self._notifier.publish(conversation_id)  # the web page's stream, the consoles
        if channel == WECHAT and mode != "template" and self._wechat is not None:
            await self._wechat.outbox.wake()
        return line

    def _store(
        self,
        conversation_id: str,
        channel: str,
        text: str,
        mode: SendMode,
        author: str,
        client_id: str,
    ) -> _Stored:
        """The line (and its outbox row), once per client id, in one transaction."""
        key = f"expert:{conversation_id}:{client_id}"
        with self._sessions() as session:
            earlier = self._sent_before(session, key)
            if earlier is not None:
                return _Stored(earlier, fresh=False)
            if channel == WECHAT and mode == "send":
                window = self._window.window(
                    session, conversation_id=conversation_id, channel=channel
                )
                if not window.free_text:
                    raise WindowClosed(window.reason or CLOSED.format(hours=48))
            now = utcnow()
            claim = InboundMessage(  # done at once: its unique key is all it is there for
                conversation_id=conversation_id,
                channel=channel,
                dedupe_key=key,
                kind="expert",
                bot_text=None,
                status="done",
                attempts=0,
                delivery="queued",
                replies=[],
                created_at=now,
                done_at=now,
            )
            session.add(claim)
            try:
                session.flush()  # waits for a concurrent first send's transaction to end
            except IntegrityError:
                session.rollback()
                earlier = self._sent_before(session, key)
                if earlier is None:
                    raise
                return _Stored(earlier, fresh=False)
            escalation = active_escalation(session, conversation_id=conversation_id)
            # the web page shows it at once (or when it is opened again)
            state = {"queue": "queued", "send": "pending"}.get(mode, "pending")
            state = state if channel == WECHAT else "sent"
            row = transcript.record(
                session,
                conversation_id=conversation_id,
                channel=channel,
                sender="expert",
                text=text,
                payload={
                    "buttons": [],
                    "author": author,
                    "client_id": client_id,
                    "escalation_id": escalation.id if escalation is not None else None,
                    "delivery": transcript.delivery(state, mode),
                },
            )
            session.flush()
            claim.replies = [{"id": row.id}]
            if channel == WECHAT and mode != "template":
                openid = openid_of(conversation_id)
                ensure_contact(session, openid)
                session.add(
                    OutboxMessage(
                        openid=openid,
                        inbound_id=claim.id,
                        chat_message_id=row.id,
                        content=text,
                        # queue: held, like what waits for a closed window; the next contact
                        # releases it (channels/wechat/window.py)
                        status="held" if mode == "queue" else "pending",
                        attempts=0,
                        created_at=now,
                    )
                )
            session.commit()
            return _Stored(line_of(row), fresh=True)

    def _sent_before(self, session: Session, key: str) -> TranscriptLine | None:
        claim = lifecycle.by_key(session, key)
        if claim is None or not claim.replies:
            return None
        row = session.get(ChatMessage, int(claim.replies[0]["id"]))
        return line_of(row) if row is not None else None

    def _send_template(self, conversation_id: str, line: TranscriptLine) -> TranscriptLine:
        """A template message (模板消息) with the expert's words (blocking: a worker thread)."""
        from channels.wechat.client import WeChatApiError

        assert self._wechat is not None and self._wechat.client is not None
        assert self._template_id is not None
        at = line.created_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
        # WeChat no longer shows first and remark (since 2023): the words go in keyword1
        data = {
            "first": {"value": TEMPLATE_FIRST},
            "keyword1": {"value": line.text},
            "keyword2": {"value": at},
            "remark": {"value": TEMPLATE_REMARK},
        }
        state, code, message = "sent", None, None
        try:
            self._wechat.client.message.send_template(
                openid_of(conversation_id), self._template_id, data
            )
        except WeChatApiError as exc:  # errcode None: an HTTP error, no answer of WeChat's
            state, code = "failed", exc.errcode
            message = exc.errmsg if exc.errcode is not None else TEMPLATE_NOT_REACHED
            log.warning("template message refused code=%s", exc.errcode)
        except (requests.ConnectionError, requests.exceptions.ConnectTimeout) as exc:
            state, message = "failed", TEMPLATE_NOT_REACHED
            log.warning("template message not sent error=%r", exc)
        except requests.Timeout:
            log.warning("template message unconfirmed (timeout): counted as sent")
        with self._sessions() as session:
            transcript.set_delivery(
                session, message_id=line.id, state=state, errcode=code, errmsg=message
            )
            session.commit()
            row = session.get(ChatMessage, line.id)
            assert row is not None
            return line_of(row)
