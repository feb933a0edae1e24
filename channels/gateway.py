"""The gateway between channels and Rasa: one bot turn per user message, in order."""

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger(__name__)

BOT_UNAVAILABLE = "抱歉，智能助手暂时无法回复，您的消息已记录，请稍后再试或致电服务热线。"


@dataclass
class BotMessage:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    custom: dict[str, Any] | None = None

    def public(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text, "buttons": self.buttons}
        if self.custom:
            data["custom"] = self.custom
        return data


class BotUnavailable(RuntimeError):
    pass


def parse_rasa_reply(items: list[dict[str, Any]]) -> list[BotMessage]:
    messages = []
    for item in items:
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in item.get("buttons") or []
        ]
        text = item.get("text") or ""
        if text or buttons or item.get("custom"):
            messages.append(BotMessage(text=text, buttons=buttons, custom=item.get("custom")))
    return messages


class RasaGateway:
    """Sends a user's text to Rasa's REST channel; one turn at a time per conversation."""

    def __init__(self, rasa_url: str, *, timeout_s: float) -> None:
        self._url = rasa_url.rstrip("/") + "/webhooks/rest/webhook"
        self._client = httpx.AsyncClient(timeout=timeout_s)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def turn(self, conversation_id: str, text: str) -> list[BotMessage]:
        async with self._locks[conversation_id]:
            try:
                response = await self._client.post(
                    self._url, json={"sender": conversation_id, "message": text}
                )
                response.raise_for_status()
            except httpx.HTTPError as exc:
                log.warning("rasa turn failed conversation=%s error=%r", conversation_id, exc)
                raise BotUnavailable(BOT_UNAVAILABLE) from exc
            return parse_rasa_reply(response.json())

    async def aclose(self) -> None:
        await self._client.aclose()
