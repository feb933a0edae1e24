"""Tell the desk what the bot could not answer (not understood, or no FAQ found): the list
staff turn into new knowledge (the dashboard groups it by normalised text).

Reported once per user message (its Rasa message id); a failed report is logged and never
changes what the user is told. The desk masks personal numbers before it stores the text.
"""

import logging
from typing import Any

from rasa_sdk import Tracker

from bot.actions import desk_client
from bot.actions.common import channel_of, own_words

logger = logging.getLogger(__name__)

UNANSWERED_PATH = "/api/reports/unanswered"
MAX_TEXT = 1000


def latest_user_message(events: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(message id, the user's own words) of the latest user message; None for a button payload
    or a message without an id."""
    for event in reversed(events):
        if event.get("event") == "user":
            text = own_words(event.get("text"))
            message_id = str(event.get("message_id") or "")
            return (message_id, text[:MAX_TEXT]) if text and message_id else None
    return None


async def report_unanswered(tracker: Tracker, *, kind: str) -> bool:
    """Report the latest user message as unanswered (``fallback`` or ``faq_miss``)."""
    latest = latest_user_message(list(tracker.events))
    if latest is None:
        return False
    message_id, text = latest
    body = {
        "conversation_id": tracker.sender_id,
        "message_id": message_id,
        "channel": channel_of(tracker.sender_id),
        "kind": kind,
        "text": text,
    }
    try:
        await desk_client.post_json(UNANSWERED_PATH, body)
    except desk_client.DeskClientError as exc:
        logger.warning(
            "unanswered not reported conversation=%s kind=%s code=%s",
            tracker.sender_id,
            kind,
            exc.code,
        )
        return False
    return True
