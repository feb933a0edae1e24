"""The service catalogue in chat: domains → services → a service's operating manual (§4.1.1), and
"咨询这项服务", which starts the need form with the service (and institution) filled in.

Buttons carry payloads (``/browse_catalogue{"catalogue_domain": "testing"}``); WeChat shows them
as numbered replies. Everything is read from the live knowledge, so a publication shows at once.
"""

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.common import Option, buttons, entity_values
from bot.actions.templates import phrase
from knowledge.constants import DOMAIN_LABELS
from knowledge.schema import Institution, Service
from knowledge.store import KnowledgeBase

FEATURE = "catalogue"  # the phrases: bot/templates/catalogue.yml
NAMES_SHOWN = 3  # institutions and stations named in a manual
K_INSTITUTIONS = 3  # institutions offered for the user's choice when a need starts


def knowledge() -> KnowledgeBase:
    from retrieval.live import live_knowledge  # the live index version's entries

    return live_knowledge()


def payload(intent: str, **entities: str) -> str:
    return f"/{intent}" + (json.dumps(entities, ensure_ascii=False) if entities else "")


def _services(kb: KnowledgeBase, domain: str) -> list[Service]:
    return [s for s in kb.services if s.status == "published" and s.domain == domain]


def _service(kb: KnowledgeBase, service_id: str | None) -> Service | None:
    entry = kb.get(service_id) if service_id else None
    return entry if isinstance(entry, Service) and entry.status == "published" else None


def domain_options(kb: KnowledgeBase) -> list[Option]:
    options = []
    for code, label in DOMAIN_LABELS.items():
        count = len(_services(kb, code))
        if count:
            title = phrase(FEATURE, "domain_option", label=label, count=count)
            options.append(Option(title, payload("browse_catalogue", catalogue_domain=code)))
    return options


def service_options(kb: KnowledgeBase, domain: str) -> list[Option]:
    options = [
        Option(s.title, payload("browse_catalogue", catalogue_service=s.id))
        for s in _services(kb, domain)
    ]
    back = phrase(FEATURE, "back_to_catalogue")
    return [*options, Option(back, payload("browse_catalogue"))]


def _names(titles: list[str]) -> str:
    names = "、".join(titles[:NAMES_SHOWN])
    return phrase(FEATURE, "manual.institutions_more", names=names) if len(titles) > 3 else names


def manual(kb: KnowledgeBase, service: Service) -> str:
    """The operating manual of §4.1.1 as chat text: conditions, materials, process, commitment,
    and who offers it."""
    lines = [service.description, phrase(FEATURE, "manual.conditions")]
    lines += [f"· {item}" for item in service.acceptance_conditions]
    lines.append(phrase(FEATURE, "manual.materials"))
    lines += [f"· {item}" for item in service.materials]
    lines.append(phrase(FEATURE, "manual.process"))
    lines += [f"{n}. {step}" for n, step in enumerate(service.process, 1)]
    lines.append(phrase(FEATURE, "manual.commitment", text=service.commitment))
    offers = sorted(kb.institutions_for(service.id), key=lambda i: -i.rating)
    if offers:
        titles = [i.title for i in offers]
        lines.append(
            phrase(FEATURE, "manual.institutions", count=len(offers), names=_names(titles))
        )
    else:
        lines.append(phrase(FEATURE, "manual.no_institution"))
    stations = kb.stations_for(service.id)
    if stations:
        lines.append(phrase(FEATURE, "manual.stations", names=_names([s.title for s in stations])))
    return "\n".join(lines)


def manual_options(service: Service) -> list[Option]:
    label = DOMAIN_LABELS.get(service.domain, service.domain)
    return [
        Option(phrase(FEATURE, "consult"), payload("request_service", service_id=service.id)),
        Option(
            phrase(FEATURE, "back_to_domain", label=label),
            payload("browse_catalogue", catalogue_domain=service.domain),
        ),
        Option(phrase(FEATURE, "back_to_catalogue"), payload("browse_catalogue")),
    ]


def browse(dispatcher: CollectingDispatcher, kb: KnowledgeBase, tracker: Tracker) -> None:
    """One step of browsing: the service asked for, else the domain, else all domains."""
    wanted_service = next(iter(entity_values(tracker, "catalogue_service")), None)
    wanted_domain = next(iter(entity_values(tracker, "catalogue_domain")), None)
    service = _service(kb, wanted_service)
    if service is not None:
        dispatcher.utter_message(
            response="utter_catalogue_service",
            title=service.title,
            domain=service.domain_label,
            manual=manual(kb, service),
            buttons=buttons(manual_options(service)),
        )
        return
    if wanted_domain in DOMAIN_LABELS and _services(kb, str(wanted_domain)):
        dispatcher.utter_message(
            response="utter_catalogue_services",
            domain=DOMAIN_LABELS[str(wanted_domain)],
            buttons=buttons(service_options(kb, str(wanted_domain))),
        )
        return
    if wanted_service or wanted_domain:
        dispatcher.utter_message(response="utter_catalogue_unknown")
    dispatcher.utter_message(
        response="utter_catalogue_domains", buttons=buttons(domain_options(kb))
    )


class ActionBrowseCatalogue(Action):
    def name(self) -> str:
        return "action_browse_catalogue"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        browse(dispatcher, knowledge(), tracker)
        return []


def chosen_service_events(
    dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase | None = None
) -> list[EventType]:
    """When a need starts from the catalogue (``/request_service{"service_id": …}``): the service
    is the need's service and the institutions offering it (or the one chosen) are its
    recommendations, so the form does not ask for the service and recommends no other."""
    service_id = next(iter(entity_values(tracker, "service_id")), None)
    if not service_id:
        return []
    kb = kb or knowledge()
    service = _service(kb, service_id)
    if service is None:
        dispatcher.utter_message(response="utter_catalogue_unknown")
        return []
    institution_id = next(iter(entity_values(tracker, "institution_id")), None)
    chosen = kb.get(institution_id) if institution_id else None
    offers: list[Institution]
    if isinstance(chosen, Institution) and service.id in chosen.service_ids:
        offers = [chosen]
        dispatcher.utter_message(
            response="utter_catalogue_chosen_institution",
            title=service.title,
            domain=service.domain_label,
            institution=chosen.title,
        )
    else:
        offers = sorted(kb.institutions_for(service.id), key=lambda i: -i.rating)[:K_INSTITUTIONS]
        dispatcher.utter_message(
            response="utter_catalogue_chosen", title=service.title, domain=service.domain_label
        )
    values: dict[str, Any] = {
        "need_service_ids": [service.id],
        "need_domain": service.domain_label,
        "need_institution_ids": [i.id for i in offers],
        "need_institution_titles": [i.title for i in offers],
    }
    return [SlotSet(name, value) for name, value in values.items()]
