"""Finding one's demand or complaint from any conversation (§5.1 d): its number (XQ…/TS…) and the
mobile that submitted it, or an anonymous complaint's follow-up code. The desk checks the pair,
counts wrong tries (a conversation gets a few a day, so numbers cannot be guessed) and links the
conversation, so its later progress questions and notices reach it. A wrong pair is refused in
words that do not tell whether the number exists. Mobiles never reach the logs unmasked."""

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import desk_client
from bot.actions.common import as_text
from bot.actions.progress import NUMBER_RE, fetch_detail
from knowledge.personal_data import find_mobile, mask_mobile

logger = logging.getLogger(__name__)

FORM = "progress_lookup_form"
LOOKUP_SLOTS = ("progress_lookup_number", "progress_lookup_secret")
# follow-up codes: 8 of the letters and digits read aloud safely (desk/complaints/follow_up.py)
CODE_RE = re.compile(r"(?<![A-Za-z0-9])[A-HJ-NP-Za-hj-np-z2-9]{8}(?![A-Za-z0-9])")


def number_in(text: str) -> str | None:
    found = NUMBER_RE.findall(text or "")
    return found[0].upper() if found else None


def secret_in(text: str, number: str | None) -> str | None:
    """The mobile in the text, or (for a complaint) a follow-up code; None when neither."""
    rest = NUMBER_RE.sub(" ", text or "")
    mobile = find_mobile(rest)
    if mobile:
        return mobile
    if number is None or number.startswith("TS"):
        code = CODE_RE.search(rest.replace("-", ""))
        if code and any(c.isalpha() for c in code.group()):  # not a date or other digits
            return code.group().upper()
    return None


def prefilled(text: str) -> list[EventType]:
    """What the user's message already says of the pair (a number, a mobile or code)."""
    number = number_in(text)
    secret = secret_in(text, number)
    events: list[EventType] = []
    if number:
        events.append(SlotSet("progress_lookup_number", number))
    if secret:
        events.append(SlotSet("progress_lookup_secret", secret))
    return events


def lookup_body(conversation_id: str, number: str, secret: str) -> dict[str, str]:
    body = {"conversation_id": conversation_id, "number": number}
    if find_mobile(secret):
        body["mobile"] = secret
    else:
        body["follow_up_code"] = secret
    return body


class ValidateProgressLookupForm(FormValidationAction):
    def name(self) -> str:
        return f"validate_{FORM}"

    async def validate_progress_lookup_number(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"progress_lookup_number": None}
        text = as_text(slot_value)
        number = number_in(text)
        if number is None:
            dispatcher.utter_message(response="utter_progress_lookup_number_invalid")
            return {"progress_lookup_number": None}
        values: dict[str, Any] = {"progress_lookup_number": number}
        secret = secret_in(text, number)
        if secret:  # both in one message
            values["progress_lookup_secret"] = secret
        return values

    async def validate_progress_lookup_secret(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"progress_lookup_secret": None}
        number = tracker.get_slot("progress_lookup_number")
        secret = secret_in(as_text(slot_value), number)
        if secret is None:
            dispatcher.utter_message(response="utter_progress_lookup_secret_invalid")
        return {"progress_lookup_secret": secret}


class ActionSubmitProgressLookup(Action):
    def name(self) -> str:
        return "action_submit_progress_lookup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        done: list[EventType] = [SlotSet(name, None) for name in LOOKUP_SLOTS]
        number = tracker.get_slot("progress_lookup_number")
        secret = tracker.get_slot("progress_lookup_secret")
        conversation = tracker.sender_id
        if not number or not secret:
            return done
        shown = mask_mobile(secret) if find_mobile(secret) else "code"
        try:
            await desk_client.post_json(
                "/api/cases/lookup", lookup_body(conversation, str(number), str(secret))
            )
            detail = await fetch_detail(conversation, str(number))
        except desk_client.DeskClientError as exc:
            logger.info(
                "case lookup refused conversation=%s number=%s secret=%s status=%s",
                conversation,
                number,
                shown,
                exc.status,
            )
            response = {
                404: "utter_progress_lookup_no_match",
                429: "utter_progress_lookup_locked",
            }.get(exc.status or 0, "utter_progress_unavailable")
            dispatcher.utter_message(response=response)
            return done
        logger.info("case lookup matched conversation=%s number=%s", conversation, number)
        dispatcher.utter_message(response="utter_progress_lookup_found", detail=detail)
        return done
