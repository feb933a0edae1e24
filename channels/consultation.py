"""The conversations as the expert console needs them: the channels' side of
:class:`desk.consultations.ports.ConversationPort`, a facade over its parts.

* reading: the transcript (``chat_messages``) as :class:`TranscriptLine` s, by conversation or by
  cursor over the watched ones (the console's live stream) — here;
* the window: whether an expert's free text can reach the enterprise now
  (channels/expert_window.py);
* sending: an expert's reply, once per ``client_id`` (channels/expert_replies.py);
* handing back: the expert's lines into Rasa's tracker, then ``action_handoff_back``
  (channels/handback.py).
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from channels.conversations import Conversations
from channels.expert_replies import ExpertReplies
from channels.expert_window import ExpertWindow
from channels.gateway import RasaGateway
from channels.handback import HandBack
from channels.settings import ChannelSettings
from channels.transcript import ChatMessage, line_of
from desk.consultations.schemas import SendMode, TranscriptLine, Window
from desk.db import get_sessionmaker
from desk.live.notifier import Notifier

if TYPE_CHECKING:
    from channels.wechat.channel import WeChatChannel

LINES_PAGE = 500


class ChannelConversations:
    """The channels' :class:`~desk.consultations.ports.ConversationPort`."""

    def __init__(
        self,
        *,
        settings: ChannelSettings,
        conversations: Conversations,
        gateway: RasaGateway,
        notifier: Notifier,
        wechat: "WeChatChannel | None",
    ) -> None:
        assert settings.database_url is not None
        sessions = get_sessionmaker(settings.database_url)
        self._window = ExpertWindow(
            wechat=wechat,
            quota=settings.wechat_cs_quota,
            window_h=settings.wechat_cs_window_h,
            template_id=settings.wechat_template_reply,
        )
        self._replies = ExpertReplies(
            sessions=sessions, notifier=notifier, wechat=wechat, window=self._window
        )
        self._hand_back = HandBack(sessions=sessions, conversations=conversations, gateway=gateway)

    # -- reading -----------------------------------------------------------------------------

    def transcript(self, session: Session, *, conversation_id: str) -> list[TranscriptLine]:
        rows = session.scalars(
            select(ChatMessage)
            .where(ChatMessage.conversation_id == conversation_id)
            .order_by(ChatMessage.id)
        )
        return [line_of(r) for r in rows]

    def lines_since(
        self, session: Session, *, after_id: int, conversation_ids: Sequence[str]
    ) -> list[tuple[str, TranscriptLine]]:
        if not conversation_ids:
            return []
        rows = session.scalars(
            select(ChatMessage)
            .where(
                ChatMessage.id > after_id,
                ChatMessage.conversation_id.in_(list(conversation_ids)),
            )
            .order_by(ChatMessage.id)
            .limit(LINES_PAGE)
        )
        return [(r.conversation_id, line_of(r)) for r in rows]

    def last_line_id(self, session: Session) -> int:
        return int(session.scalar(select(func.max(ChatMessage.id))) or 0)

    # -- the window --------------------------------------------------------------------------

    def window(self, session: Session, *, conversation_id: str, channel: str) -> Window:
        return self._window.window(session, conversation_id=conversation_id, channel=channel)

    # -- sending -----------------------------------------------------------------------------

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
        return await self._replies.send(
            conversation_id=conversation_id,
            channel=channel,
            text=text,
            mode=mode,
            author=author,
            client_id=client_id,
        )

    # -- handing back ------------------------------------------------------------------------

    async def hand_back(
        self,
        *,
        conversation_id: str,
        channel: str,
        expert: str,
        outcome: str,
        escalation_id: int,
        greet: bool = True,
    ) -> list[TranscriptLine]:
        return await self._hand_back.hand_back(
            conversation_id=conversation_id,
            channel=channel,
            expert=expert,
            outcome=outcome,
            escalation_id=escalation_id,
            greet=greet,
        )


if TYPE_CHECKING:
    from desk.consultations.ports import ConversationPort

    def _is_a_port(port: ChannelConversations) -> ConversationPort:  # checked by mypy
        return port
