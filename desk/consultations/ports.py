"""What the desk needs from the conversations (the channels fill it in; DESIGN §3).

The desk never imports the channels: ``app/`` gives the console's routes an object with these
methods, built on the channels' transcript, web stream, WeChat outbox and Rasa gateway.
"""

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.orm import Session

from desk.consultations.schemas import SendMode, TranscriptLine, Window
from desk.errors import DeskError


class ConversationPort(Protocol):
    def transcript(self, session: Session, *, conversation_id: str) -> list[TranscriptLine]:
        """The conversation's lines on every channel, oldest first (private notes excluded)."""
        ...

    def lines_since(
        self, session: Session, *, after_id: int, conversation_ids: Sequence[str]
    ) -> list[tuple[str, TranscriptLine]]:
        """(conversation id, line) of the lines newer than ``after_id`` in those conversations."""
        ...

    def last_line_id(self, session: Session) -> int:
        """The newest line's id over all conversations (a stream starts after it)."""
        ...

    def window(self, session: Session, *, conversation_id: str, channel: str) -> Window:
        """Whether an expert's free text can reach the enterprise now."""
        ...

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
        """An expert's reply to the enterprise through its own channel (once per client id)."""
        ...

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
        """Tell the bot what the expert said, and let it greet the user back (``greet``; when
        the user has already been told, as by the idle timer, the bot only learns it)."""
        ...


class ChannelsAbsent(DeskError):
    code = "channels_absent"
    status = 503


class NoConversations:
    """The desk alone (its tests, tools): nothing to read, nothing can be sent."""

    def transcript(self, session: Session, *, conversation_id: str) -> list[TranscriptLine]:
        return []

    def lines_since(
        self, session: Session, *, after_id: int, conversation_ids: Sequence[str]
    ) -> list[tuple[str, TranscriptLine]]:
        return []

    def last_line_id(self, session: Session) -> int:
        return 0

    def window(self, session: Session, *, conversation_id: str, channel: str) -> Window:
        return Window(channel=channel, free_text=False, reason="会话通道未启用。")

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
        raise ChannelsAbsent("会话通道未启用，无法发送。")

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
        return []


def get_conversation_port() -> ConversationPort:
    """Overridden by the app with the channels' implementation."""
    return NoConversations()
