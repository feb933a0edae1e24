"""What the need form says: the contact question with the privacy notice, and the summary with
the recommendations and the numbered choices the user confirms before anything is opened."""

import re
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import Option, buttons, numbered, own_words
from bot.actions.listening import notice_shown, shown_before
from bot.actions.recommend import find_recommendations, need_query, plan_reply
from bot.actions.templates import phrase
from bot.actions.validators import compact, is_agreement, parse_choice

FEATURE = "need"  # the phrases: bot/templates/need.yml
_SUBMIT = re.compile(r"^(?:好的?|可以|行|确认|确定|提交|没问题|就这样)")
_CANCEL = re.compile(r"暂不|不提交|先不|不用了|不要了|取消")
_DETAILS = re.compile(r"补充|完善|修改|改一下|更改|添加")


@dataclass(frozen=True)
class Decision:
    action: str  # submit | cancel | details
    institution_id: str | None = None


def decision_options(titles: list[str]) -> list[Option]:
    """1…n: submit choosing institution i; then staff choose, add details, not now."""
    options = [
        Option(phrase(FEATURE, "options.choose", title=title), str(n))
        for n, title in enumerate(titles, 1)
    ]
    staff = "staff_after_recommendation" if titles else "staff_without_recommendation"
    options.append(Option(phrase(FEATURE, f"options.{staff}"), "/affirm"))
    options.append(Option(phrase(FEATURE, "options.details"), str(len(titles) + 2)))
    options.append(Option(phrase(FEATURE, "options.not_now"), "/deny"))
    return options


def decision_for(text: str, intent: str, *, titles: list[str], ids: list[str]) -> Decision | None:
    """The user's answer to the summary, or None when it is not one of the choices."""
    count = len(titles)
    choice = parse_choice(text, count + 3)
    if choice is not None:
        if choice <= count and choice <= len(ids):
            return Decision("submit", ids[choice - 1])
        return [Decision("submit"), Decision("details"), Decision("cancel")][choice - count - 1]
    said = compact(text)
    for title, institution_id in zip(titles, ids, strict=False):
        if said and (said in compact(title) or compact(title) in said) and len(said) >= 2:
            return Decision("submit", institution_id)
    if _DETAILS.search(said):
        return Decision("details")
    if intent in ("deny", "cancel") or _CANCEL.search(said):
        return Decision("cancel")
    if intent == "affirm" or is_agreement(said) or _SUBMIT.match(said):
        return Decision("submit")
    return None


def _value(slots: dict[str, Any], name: str) -> str:
    return str(slots.get(name) or phrase(FEATURE, "not_given"))


def _line(key: str, value: Any) -> str:
    return phrase(FEATURE, f"summary.{key}", value=value)


def need_summary(slots: dict[str, Any]) -> str:
    """The need as the desk will receive it, one line per field."""
    described = (
        own_words(slots.get("need_text"))
        or slots.get("need_product")
        or phrase(FEATURE, "not_given")
    )
    lines = [_line("described", described)]
    if slots.get("need_domain"):
        lines.append(_line("domain", slots["need_domain"]))
    lines += [
        _line("product", _value(slots, "need_product")),
        _line("quantity", _value(slots, "need_quantity")),
        _line("place", _value(slots, "need_place")),
        _line("date", _value(slots, "need_date")),
        _line("service_mode", _value(slots, "need_service_mode")),
    ]
    company = _value(slots, "need_company")
    if slots.get("need_credit_code"):
        company = phrase(
            FEATURE, "summary.credit_code", company=company, code=slots["need_credit_code"]
        )
    lines.append(_line("company", company))
    if slots.get("contact_name") or slots.get("contact_mobile"):
        lines.append(
            phrase(
                FEATURE,
                "summary.contact",
                name=_value(slots, "contact_name"),
                mobile=_value(slots, "contact_mobile"),
            )
        )
    return "\n".join(lines)


async def recommendation_events(
    dispatcher: CollectingDispatcher, slots: dict[str, Any]
) -> list[EventType]:
    """Recommend for the need as it stands, say so, and keep what was recommended."""
    text = need_query(slots.get("need_text"), slots.get("need_product"))
    reply = plan_reply(await find_recommendations(text, slots.get("need_place")))
    dispatcher.utter_message(response=reply.response, **reply.variables)
    return [
        SlotSet("need_service_ids", reply.service_ids),
        SlotSet("need_institution_ids", reply.institution_ids),
        SlotSet("need_institution_titles", reply.institution_titles),
        SlotSet("need_domain", reply.domain),
    ]


class ActionAskNeedDecision(Action):
    """Recommendations (once per need, again after product or place changed), then the
    summary and the numbered choices."""

    def name(self) -> str:
        return "action_ask_need_decision"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slots = dict(tracker.slots)
        events: list[EventType] = []
        if slots.get("need_service_ids") is None:
            events = await recommendation_events(dispatcher, slots)
            slots.update({e["name"]: e["value"] for e in events})
        options = decision_options(list(slots.get("need_institution_titles") or []))
        dispatcher.utter_message(
            response="utter_ask_need_decision",
            need_summary=need_summary(slots),
            need_options=numbered(options),
            buttons=buttons(options),
        )
        return events


class ActionAskContactName(Action):
    """The first personal question: with the one-line privacy notice until the user agreed."""

    def name(self) -> str:
        return "action_ask_contact_name"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("privacy_consent") is True:
            dispatcher.utter_message(response="utter_ask_contact_name")
        elif notice_shown(tracker, NEED_START):
            dispatcher.utter_message(response="utter_ask_contact_name_again")
        else:
            dispatcher.utter_message(response="utter_ask_contact_name_with_notice")
        return []


NEED_START = "utter_need_start"  # the need's first action: a notice before it was another need


class ActionAskPrivacyConsent(Action):
    """The notice for a contact given before it could be shown; briefly once it was shown."""

    def name(self) -> str:
        return "action_ask_privacy_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        again = notice_shown(tracker, NEED_START)
        response = "utter_ask_privacy_consent_again" if again else "utter_ask_privacy_consent"
        dispatcher.utter_message(response=response)
        return []


class ActionAskNeedServiceMode(Action):
    """The four modes with their explanations once; asked again, only the choice."""

    def name(self) -> str:
        return "action_ask_need_service_mode"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        again = shown_before(tracker, SERVICE_MODE_MARK, since_action=NEED_START)
        response = "utter_ask_need_service_mode_again" if again else "utter_ask_need_service_mode"
        dispatcher.utter_message(response=response)
        return []


SERVICE_MODE_MARK = "1. 送样（把样品送到机构或站点）"  # in utter_ask_need_service_mode
