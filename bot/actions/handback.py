"""Back from a 质量门诊 expert (§5.3 a): the bot takes the conversation over again.

When an expert closes a consultation, the app writes the expert's messages into the tracker as
`bot` events whose metadata carries ``qclinic_expert`` (the expert's username) and
``escalation_id``, sets ``handoff_outcome``, and runs ``action_handoff_back`` through Rasa's
``POST /conversations/{id}/execute``. The action greets the user back with what happened,
keeps the expert's last words (``handoff_expert_said``, masked and clipped) for the flows that
follow, and clears the handoff, so the user's next message goes through NLU and the policies as
after any bot turn.
"""

import logging
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from knowledge.personal_data import mask_text

logger = logging.getLogger(__name__)

ACTION_NAME = "action_handoff_back"
EXPERT_KEY = "qclinic_expert"
ESCALATION_KEY = "escalation_id"
EXPERT_SAID_MAX = 200
# handoff_outcome → the greeting back; any other value gets the neutral one.
BACK_RESPONSES = {
    "answered": "utter_handoff_back_answered",
    "demand_opened": "utter_handoff_back_demand_opened",
    "complaint_opened": "utter_handoff_back_complaint_opened",
    "no_reply": "utter_handoff_back_no_reply",
    "timeout": "utter_handoff_back_timeout",
    "cancelled": "utter_handoff_back_cancelled",
}
BACK_DEFAULT = "utter_handoff_back"


@dataclass(frozen=True)
class ExpertMessage:
    expert: str
    escalation_id: Any
    text: str


def _expert_message(event: dict[str, Any]) -> ExpertMessage | None:
    metadata = event.get("metadata")
    if event.get("event") != "bot" or not isinstance(metadata, dict):
        return None
    expert, text = metadata.get(EXPERT_KEY), str(event.get("text") or "").strip()
    if not expert or not text:
        return None
    return ExpertMessage(str(expert), metadata.get(ESCALATION_KEY), text)


def expert_messages(events: list[dict[str, Any]]) -> list[ExpertMessage]:
    """The expert's messages of the latest consultation, in order: those since the previous
    hand back that carry the latest escalation id."""
    start = 0
    for index, event in enumerate(events):
        if event.get("event") == "action" and event.get("name") == ACTION_NAME:
            start = index + 1
    said = [m for m in map(_expert_message, events[start:]) if m is not None]
    if not said:
        return []
    latest = said[-1].escalation_id
    return [m for m in said if m.escalation_id == latest]


def clipped(text: str, limit: int = EXPERT_SAID_MAX) -> str:
    """`text` with personal numbers masked, cut to `limit` characters (… marks a cut)."""
    text = " ".join(mask_text(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def hand_back_events(
    said: list[ExpertMessage], *, active_loop: str | None, pending_choice: Any
) -> list[EventType]:
    """What the hand back changes: no form, no stale numbered choice, the handoff's slots, and
    a listen, so the next user message is predicted as after any bot turn (the execute endpoint
    does not predict one)."""
    events: list[EventType] = []
    if active_loop:
        events += [ActiveLoop(None), SlotSet("requested_slot", None)]
    if pending_choice:
        events.append(SlotSet("pending_choice", None))
    events += [
        SlotSet("handoff_outcome", None),
        SlotSet("handoff_expert_said", clipped(said[-1].text) if said else None),
        ActionExecuted("action_listen"),
    ]
    return events


class ActionHandoffBack(Action):
    """Run by the app when an expert closes a consultation (or it ends without one)."""

    def name(self) -> str:
        return ACTION_NAME

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        outcome = str(tracker.get_slot("handoff_outcome") or "")
        said = expert_messages(list(tracker.events))
        logger.info(
            "hand back conversation=%s escalation=%s outcome=%s expert_messages=%d",
            tracker.sender_id,
            said[-1].escalation_id if said else None,
            outcome or None,
            len(said),
        )
        dispatcher.utter_message(response=BACK_RESPONSES.get(outcome, BACK_DEFAULT))
        return hand_back_events(
            said,
            active_loop=tracker.active_loop.get("name"),
            pending_choice=tracker.get_slot("pending_choice"),
        )
