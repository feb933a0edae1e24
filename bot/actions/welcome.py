"""The welcome (web page opened, WeChat subscribed, 你好): the main actions as quick replies,
then 猜你想问 — the questions the desk says were answered in the most conversations lately
(``GET /api/knowledge/popular``), kept for a minute. With no history there is no 猜你想问:
nothing is made up. Answering a FAQ reports it (``POST /api/knowledge/answered``), once per
user message, so the list follows what enterprises really ask.
"""

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import desk_client
from bot.actions.common import Option, buttons, channel_of, latest_message_id

logger = logging.getLogger(__name__)

POPULAR_PATH = "/api/knowledge/popular"
ANSWERED_PATH = "/api/knowledge/answered"
POPULAR_COUNT = 3
CACHE_TTL_S = 60.0
FAQ_ID_ENTITY = "faq_id"


@dataclass
class _Cache:
    at: float = float("-inf")
    options: tuple[Option, ...] = ()


_cache = _Cache()


def ask_payload(faq_id: str) -> str:
    """A quick reply that asks one FAQ (the action answers it by id, whatever NLU thinks)."""
    return "/ask_faq" + json.dumps({FAQ_ID_ENTITY: faq_id}, separators=(",", ":"))


def popular_options(items: list[dict[str, Any]]) -> list[Option]:
    return [
        Option(str(i["question"]), ask_payload(str(i["faq_id"])))
        for i in items
        if i.get("faq_id") and i.get("question")
    ][:POPULAR_COUNT]


async def popular_questions(*, now: float | None = None) -> list[Option]:
    """The most asked questions (cached for ``CACHE_TTL_S``); [] when the desk cannot say."""
    moment = time.monotonic() if now is None else now
    if moment - _cache.at < CACHE_TTL_S:
        return list(_cache.options)
    try:
        data = await desk_client.get_json(POPULAR_PATH, params={"limit": str(POPULAR_COUNT)})
    except desk_client.DeskClientError as exc:
        logger.warning("popular questions unavailable code=%s", exc.code)
        return list(_cache.options)  # the last known list, if any
    _cache.options = tuple(popular_options(list(data.get("items") or [])))
    _cache.at = moment
    return list(_cache.options)


def clear_cache() -> None:
    _cache.at, _cache.options = float("-inf"), ()


async def report_answered(tracker: Tracker, faq_id: str) -> bool:
    """Tell the desk which FAQ answered the latest user message (a failure changes nothing)."""
    message_id = latest_message_id(tracker)[:80]
    if not message_id:
        return False
    body = {
        "conversation_id": tracker.sender_id,
        "message_id": message_id,
        "channel": channel_of(tracker.sender_id),
        "faq_id": faq_id,
    }
    try:
        await desk_client.post_json(ANSWERED_PATH, body)
    except desk_client.DeskClientError as exc:
        logger.warning(
            "answered faq not reported conversation=%s code=%s", tracker.sender_id, exc.code
        )
        return False
    return True


class ActionWelcome(Action):
    def name(self) -> str:
        return "action_welcome"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_core_greet")
        options = await popular_questions()
        if options:
            dispatcher.utter_message(response="utter_welcome_popular", buttons=buttons(options))
        return []
