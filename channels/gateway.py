"""The gateway between channels and Rasa: one bot turn per user message.

It keeps no order of its own: the conversation runner (channels/runner.py) holds the one
per-conversation lock around every turn."""

import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

log = logging.getLogger(__name__)

BOT_UNAVAILABLE = "抱歉，智能助手暂时无法回复。您的消息已记录，恢复后会第一时间回复您。"
TURN_KEY = "qclinic_turn"  # metadata key that finds a turn again in Rasa's tracker
SERVER_DOWN_S = 5.0  # a Rasa server that refused a connection is tried last for this long
# Rasa's marker of a turn whose action server could not be reached; Rasa did not save that turn
# (bot/server/patches.py)
TURN_FAILED = "qclinic_turn_failed"


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

    @classmethod
    def from_public(cls, data: dict[str, Any]) -> "BotMessage":
        return cls(
            text=str(data.get("text") or ""),
            buttons=list(data.get("buttons") or []),
            custom=data.get("custom") or None,
        )


def numbered_by_bot(message: dict[str, Any]) -> bool:
    """The bot's text already lists its buttons as numbered options and reads the digits
    itself: channels neither number them again nor map a digit to a button."""
    return "回复数字" in str(message.get("text") or "")


def channel_options(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The buttons a channel numbers (1, 2, … across the turn) for a user to answer by digit."""
    return [b for m in messages if not numbered_by_bot(m) for b in m.get("buttons") or []]


class BotUnavailable(RuntimeError):
    """No answer from the bot. ``uncertain``: Rasa may have taken the turn all the same."""

    def __init__(self, message: str = BOT_UNAVAILABLE, *, uncertain: bool = False) -> None:
        super().__init__(message)
        self.uncertain = uncertain


def _message(item: dict[str, Any]) -> BotMessage | None:
    buttons = [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
        for b in item.get("buttons") or []
    ]
    text = item.get("text") or ""
    custom = item.get("custom")
    if not isinstance(custom, dict):
        custom = {"items": custom} if isinstance(custom, list) else None
    if text or buttons or custom:
        return BotMessage(text=str(text), buttons=buttons, custom=custom)
    return None


def parse_rasa_reply(items: list[dict[str, Any]]) -> list[BotMessage]:
    return [m for m in (_message(item) for item in items) if m is not None]


def replies_in_tracker(events: list[dict[str, Any]], key: str) -> list[BotMessage] | None:
    """The bot messages that answered the user event tagged ``key``; None if Rasa never saw it,
    or the turn was undone (a ``rewind`` before any reply, as an earlier release appended)."""
    found = False
    items: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            if (event.get("metadata") or {}).get(TURN_KEY) == key:
                found, items = True, []  # the last time it was sent
            elif found:
                break
        elif found and kind == "rewind" and not items:
            found = False
        elif found and kind == "bot":
            data = event.get("data") or {}
            items.append({"text": event.get("text"), **data})
    return parse_rasa_reply(items) if found else None


class RasaGateway:
    """Sends a user's text to Rasa's REST channel (the caller orders a conversation's turns).

    With several Rasa servers (``QCLINIC_RASA_URLS``; they share the tracker store in SQL and the
    lock store in Redis, so any of them can take any turn) a conversation has a home server,
    chosen by its id, so its tracker stays in that server's cache; a server that refuses the
    connection (the request never reached it) is set aside for a few seconds and the next one
    takes the request at once. A server that fails after taking a request is not asked again
    for that request: the turn may have run there (``uncertain``, looked up later).

    Before a turn it asks the action server whether it is up: Rasa itself carries on without
    it (and the user's words would be spent on a turn without its actions).
    """

    def __init__(
        self,
        rasa_url: str | Sequence[str],
        *,
        timeout_s: float,
        token: str | None = None,
        actions_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        urls = [rasa_url] if isinstance(rasa_url, str) else list(rasa_url)
        if not urls:
            raise ValueError("at least one Rasa server")
        self._bases = [url.rstrip("/") for url in urls]
        self._down_until: dict[str, float] = {}
        self._token = token
        self._actions_health = actions_url.rstrip("/") + "/health" if actions_url else None
        self._actions_ok_until = 0.0
        self._client = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    def servers(self, conversation_id: str) -> list[str]:
        """The servers to try, in order: the conversation's home first, refused ones last."""
        home = zlib.crc32(conversation_id.encode()) % len(self._bases)
        ring = self._bases[home:] + self._bases[:home]
        now = time.monotonic()
        return sorted(ring, key=lambda base: self._down_until.get(base, 0.0) > now)

    async def _request(
        self, conversation_id: str, method: str, tail: str, **kwargs: Any
    ) -> httpx.Response:
        """One request to the first server that accepts the connection."""
        refused: httpx.HTTPError | None = None
        for base in self.servers(conversation_id):
            try:
                return await self._client.request(method, base + tail, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # never reached it
                self._down_until[base] = time.monotonic() + SERVER_DOWN_S
                log.warning("rasa server refused server=%s error=%r", base, exc)
                refused = exc
        assert refused is not None
        raise refused

    async def _check_actions(self) -> None:
        if self._actions_health is None or time.monotonic() < self._actions_ok_until:
            return
        try:
            response = await self._client.get(self._actions_health, timeout=2.0)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("action server unavailable error=%r", exc)
            raise BotUnavailable() from exc
        self._actions_ok_until = time.monotonic() + 2.0

    async def turn(
        self,
        conversation_id: str,
        text: str,
        *,
        key: str | None = None,
        channel: str | None = None,
    ) -> list[BotMessage]:
        body: dict[str, Any] = {"sender": conversation_id, "message": text}
        if key is not None:
            body["metadata"] = {TURN_KEY: key}
        if channel is not None:
            body["input_channel"] = channel
        await self._check_actions()
        try:
            response = await self._request(
                conversation_id, "POST", "/webhooks/rest/webhook", json=body
            )
            response.raise_for_status()
            replies = parse_rasa_reply(response.json())
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            log.warning("rasa unreachable conversation=%s error=%r", conversation_id, exc)
            raise BotUnavailable() from exc
        except (httpx.HTTPError, ValueError) as exc:  # it may have run: timeout, 5xx
            log.warning("rasa turn failed conversation=%s error=%r", conversation_id, exc)
            raise BotUnavailable(uncertain=True) from exc
        if any(m.custom and TURN_FAILED in m.custom for m in replies):
            # the action server went away during the turn: Rasa did not keep the turn
            # (bot/server/patches.py), the conversation is as before it; the message waits like
            # any other. (A rewind here would undo more than the turn inside a form.)
            log.warning("turn without its actions not kept conversation=%s", conversation_id)
            raise BotUnavailable()
        if replies or key is None:
            return replies
        # Rasa's REST channel answers 200 and no messages when the turn failed inside it (its
        # lock store or tracker store away): only the tracker tells a silent turn from a lost one.
        try:
            found = await self.find_turn(conversation_id, key)
        except BotUnavailable as exc:
            raise BotUnavailable(uncertain=True) from exc
        if found is None:
            log.warning("rasa dropped the turn conversation=%s", conversation_id)
            raise BotUnavailable()
        # A turn saved with no reply is a silent turn, also when the action server is away now:
        # a turn whose actions could not be reached is never saved (bot/server/patches.py).
        return found

    @staticmethod
    def _conversation_path(conversation_id: str, tail: str) -> str:
        # Rasa's server (Sanic) matches the raw path and does not decode %3A: the ':' of
        # web:<uuid> / wx:<openid> must stay as it is, or the events land in another tracker.
        return f"/conversations/{quote(conversation_id, safe=':')}/{tail}"

    def _params(self, **extra: str) -> dict[str, str]:
        return {**extra, "token": self._token} if self._token else dict(extra)

    async def find_turn(self, conversation_id: str, key: str) -> list[BotMessage] | None:
        """Look a turn up in Rasa's tracker (after a timeout): its replies, or None."""
        path = self._conversation_path(conversation_id, "tracker")
        try:
            response = await self._request(conversation_id, "GET", path, params=self._params())
            response.raise_for_status()
            events = response.json().get("events") or []
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            log.warning("rasa tracker unavailable conversation=%s error=%r", conversation_id, exc)
            raise BotUnavailable() from exc
        return replies_in_tracker(events, key)

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """Add events to the conversation's tracker (what people said while they held it)."""
        path = self._conversation_path(conversation_id, "tracker/events")
        try:
            response = await self._request(
                conversation_id,
                "POST",
                path,
                params=self._params(include_events="NONE"),
                json=events,
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("rasa events refused conversation=%s error=%r", conversation_id, exc)
            raise BotUnavailable(uncertain=not isinstance(exc, httpx.ConnectError)) from exc

    async def execute_action(self, conversation_id: str, name: str) -> list[BotMessage]:
        """Run one action in the conversation (Rasa 3.6 answers ``{tracker, messages}``)."""
        await self._check_actions()
        path = self._conversation_path(conversation_id, "execute")
        try:
            response = await self._request(
                conversation_id,
                "POST",
                path,
                params=self._params(include_events="NONE"),
                json={"name": name},
            )
            response.raise_for_status()
            messages = response.json().get("messages") or []
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            log.warning("rasa unreachable conversation=%s error=%r", conversation_id, exc)
            raise BotUnavailable() from exc
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            log.warning("rasa action failed conversation=%s error=%r", conversation_id, exc)
            raise BotUnavailable(uncertain=True) from exc
        replies = parse_rasa_reply(list(messages))
        if any(m.custom and TURN_FAILED in m.custom for m in replies):
            raise BotUnavailable(uncertain=True)  # the action ran without the action server
        return replies

    async def aclose(self) -> None:
        await self._client.aclose()
