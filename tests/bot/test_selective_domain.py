"""Rasa sends the domain only to the actions that declare they need it (bot/domain
``send_domain: true``); the action server runs the others without it (bot/actions/server.py)."""

import asyncio
import importlib
import inspect
import pkgutil
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

import bot.actions
from app.settings import AppSettings
from app.stack import rasa_endpoints
from bot.actions.server import SelectiveDomainExecutor

REPO = Path(__file__).resolve().parents[2]


def declared_needing_domain() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "bot" / "domain").glob("*.yml"):
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("actions", []):
            if isinstance(entry, dict):
                names |= {name for name, opts in entry.items() if (opts or {}).get("send_domain")}
    return names


def form_validations() -> set[str]:
    names: set[str] = set()
    for info in pkgutil.iter_modules(bot.actions.__path__):
        module = importlib.import_module(f"bot.actions.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, FormValidationAction) and cls.__module__ == module.__name__:
                names.add(cls().name())
    return names


def test_every_form_validation_is_sent_the_domain() -> None:
    validations = form_validations()
    assert len(validations) >= 7
    assert validations <= declared_needing_domain()
    assert rasa_endpoints(AppSettings())["action_endpoint"]["enable_selective_domain"] is True


class Echo(Action):
    def name(self) -> str:
        return "action_probe_echo"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any) -> list:  # type: ignore[type-arg]
        dispatcher.utter_message(text=f"forms: {sorted(domain.get('forms', {}))}")
        return []


def call(executor: SelectiveDomainExecutor, **extra: Any) -> str:
    tracker = {"sender_id": "web:probe", "slots": {}, "latest_message": {}, "events": [],
               "paused": False, "followup_action": None, "active_loop": {},
               "latest_action_name": None}  # fmt: skip
    payload = {"next_action": "action_probe_echo", "sender_id": "web:probe", "tracker": tracker}
    response = asyncio.run(executor.run({**payload, **extra}))
    assert response is not None
    return str(response.responses[0]["text"])


def test_an_action_runs_without_the_domain_and_with_the_last_one_sent() -> None:
    executor = SelectiveDomainExecutor()
    executor.register_action(Echo())
    assert call(executor) == "forms: []"  # none sent yet: an empty domain, not a refusal
    domain = {"forms": {"need_form": {"required_slots": ["need_product"]}}}
    assert call(executor, domain=domain) == "forms: ['need_form']"
    assert call(executor) == "forms: ['need_form']"
