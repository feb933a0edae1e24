"""Registration guidance (§7.1): the two kinds of user, their materials, the 3-working-day
review; the kind is taken from the question when it names one, else asked."""

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import buttons, digit_options, latest_text, numbered
from bot.actions.validators import compact, parse_choice

KINDS = (("enterprise", "企业用户"), ("personal", "普通用户（个人）"))
_ENTERPRISE = ("企业", "公司", "单位", "厂", "法人", "营业执照", "机构")
_PERSONAL = ("个人", "普通用户", "自己", "身份证", "私人")


def kind_of(text: str, *, choosing: bool) -> str | None:
    """enterprise | personal from the words (or the option number when a choice is open)."""
    said = compact(text)
    if choosing and (choice := parse_choice(said, len(KINDS))):
        return KINDS[choice - 1][0]
    personal = any(word in said for word in _PERSONAL)
    enterprise = any(word in said for word in _ENTERPRISE)
    if personal != enterprise:
        return "personal" if personal else "enterprise"
    return None


class ActionGuideRegistration(Action):
    def name(self) -> str:
        return "action_guide_registration"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        choosing = tracker.get_slot("pending_choice") == "registration"
        kind = kind_of(latest_text(tracker), choosing=choosing)
        in_form = bool(tracker.active_loop.get("name"))
        if kind == "enterprise":
            dispatcher.utter_message(response="utter_registration_enterprise")
        elif kind == "personal":
            dispatcher.utter_message(response="utter_registration_personal")
        if kind is not None:
            return [SlotSet("pending_choice", None)]
        options = digit_options([label for _, label in KINDS])
        dispatcher.utter_message(
            response="utter_registration_kinds",
            registration_options=numbered(options),
            buttons=[] if in_form else buttons(options),
        )
        return [SlotSet("pending_choice", None if in_form else "registration")]
