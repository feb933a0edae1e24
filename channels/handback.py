"""Handing a conversation back to the bot: the expert's lines go into Rasa's tracker as bot
events with metadata, Rasa runs ``action_handoff_back``, and what it says reaches the user (or,
with Rasa away, a system line). The expert's failed WeChat lines are dropped from the outbox."""

import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from channels.conversations import Conversations
from channels.expert_window import WECHAT
from channels.gateway import BotMessage, BotUnavailable, RasaGateway
from channels.models import OutboxMessage
from channels.transcript import ChatMessage, line_of
from desk.consultations.schemas import TranscriptLine

log = logging.getLogger(__name__)

HANDOFF_ACTION = "action_handoff_back"
HANDOFF_SLOT = "handoff_outcome"
SAID_SLOT = "handoff_expert_said"  # what action_handoff_back keeps of the expert's last words
SAID_MAX = 200
EXPERT_KEY = "qclinic_expert"

HANDED_BACK = "专家咨询已结束，智能助手将继续为您服务。如有其他问题，请直接留言。"


class HandBack:
    """Gives a conversation back to Rasa with what the experts said."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        conversations: Conversations,
        gateway: RasaGateway,
    ) -> None:
        self._sessions = sessions
        self._conversations = conversations
        self._gateway = gateway

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
        if channel == WECHAT:
            await run_in_threadpool(self._drop_failed, conversation_id, escalation_id)
        said = await run_in_threadpool(self._expert_lines, conversation_id, escalation_id)
        events: list[dict[str, Any]] = [
            {
                "event": "bot",
                "text": line.text,
                "timestamp": line.created_at.timestamp(),
                "metadata": {EXPERT_KEY: line.author or expert, "escalation_id": escalation_id},
            }
            for line in said
        ]
        if not greet:  # the user was told already: the bot learns the words, nothing is said
            if said:
                last = " ".join(said[-1].text.split())
                clipped = last if len(last) <= SAID_MAX else last[: SAID_MAX - 1] + "…"
                events.append({"event": "slot", "name": SAID_SLOT, "value": clipped})
            try:
                if events:
                    await self._gateway.append_events(conversation_id, events)
            except BotUnavailable:
                log.warning("idle hand back not told to the bot conversation=%s", conversation_id)
            return []
        events.append({"event": "slot", "name": HANDOFF_SLOT, "value": outcome})
        sender = "bot"
        try:
            await self._gateway.append_events(conversation_id, events)
            replies = await self._gateway.execute_action(conversation_id, HANDOFF_ACTION)
        except BotUnavailable:
            log.warning("hand back without the bot conversation=%s", conversation_id)
            replies = []
        if not replies:  # the user is never left without a word that the expert has gone
            replies, sender = [BotMessage(text=HANDED_BACK)], "system"
        public = await self._conversations.deliver(
            conversation_id=conversation_id, channel=channel, messages=replies, sender=sender
        )
        return await run_in_threadpool(self._lines, [int(m["id"]) for m in public])

    def _expert_lines(self, conversation_id: str, escalation_id: int) -> list[TranscriptLine]:
        """What the experts said in this consultation and the user got (or will get)."""
        with self._sessions() as session:
            rows = session.scalars(
                select(ChatMessage)
                .where(
                    ChatMessage.conversation_id == conversation_id,
                    ChatMessage.sender == "expert",
                )
                .order_by(ChatMessage.id)
            )
            lines = [
                line_of(r) for r in rows if (r.payload or {}).get("escalation_id") == escalation_id
            ]
        return [x for x in lines if x.delivery is None or x.delivery.state != "failed"]

    def _drop_failed(self, conversation_id: str, escalation_id: int) -> None:
        """The expert's failed lines never go once the bot has the conversation back (the
        outbox would otherwise retry them, or release them at the user's next contact, after
        the bot's greeting and unknown to the bot's tracker); they stay "failed"."""
        with self._sessions() as session:
            rows = session.scalars(
                select(ChatMessage).where(
                    ChatMessage.conversation_id == conversation_id,
                    ChatMessage.sender == "expert",
                )
            )
            failed = [
                r.id
                for r in rows
                if (r.payload or {}).get("escalation_id") == escalation_id
                and ((r.payload or {}).get("delivery") or {}).get("state") == "failed"
            ]
            if failed:
                session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.chat_message_id.in_(failed),
                        OutboxMessage.status.in_(("pending", "held")),
                    )
                    .values(status="dropped")
                )
                session.commit()

    def _lines(self, ids: list[int]) -> list[TranscriptLine]:
        with self._sessions() as session:
            rows = session.scalars(
                select(ChatMessage).where(ChatMessage.id.in_(ids)).order_by(ChatMessage.id)
            )
            return [line_of(r) for r in rows]
