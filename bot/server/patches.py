"""Small, tested changes to Rasa 3.6's behaviour, applied when the server starts (never by editing
installed files). Each patch keeps Rasa's contract and only removes waste.

``action_validation``: Rasa validates every action server response against its response schema
with ``jsonschema.validate``, which checks the schema itself and builds a new validator on each
call (about 35 ms of CPU here, twice per form turn). The schema never changes, so the validator is
built and its schema checked once; an invalid response still raises the same ``ValidationError``
with Rasa's own hint appended. Each event must match exactly one of 23 alternatives (``oneOf``),
so the full validator tries all 23 per event; the alternatives differ in their ``event``
constant, so an event is valid exactly when it matches the one alternative named by its
``event``. A response is first checked that way (one alternative per event) and only one that
fails it goes through the full validator, which raises Rasa's error.

``without_jax``: TensorFlow's TF Lite converter imports jax whenever it is installed (it is, in
Rasa's environment, as a dependency of a dependency): about 100 MB resident and a second of start
for a converter Rasa never calls. Marking jax absent before Rasa is imported makes that import
fail the way TensorFlow expects (``ImportError``, handled there). Applied before anything imports
Rasa; a no-op if jax was imported already.

``tracker_store_errors``: Rasa wraps the tracker store in ``FailSafeTrackerStore``, which on a
database error hands out no tracker at all (the message then runs in a new, empty conversation:
a form half filled is forgotten and the user is greeted again) and saves the result in memory,
where nobody reads it. Unwrapped, the error fails the turn (HTTP 500) and the app keeps the
message and sends it again when the database is back (bot/server/tracker_store.py first waits a
while for it).

``remote_action_failures``: when the action server cannot be reached (refused, reset mid-call)
Rasa logs "Bot will continue, but the actions events are lost" and answers the turn with whatever
was said before, so the user's words are spent on a turn without its actions (a demand never
opened). The failed action now also leaves a marker among the turn's messages
(``{"custom": {"qclinic_turn_failed": <action>}}``), and a user message whose turn it failed is
not saved in the tracker store: the conversation stays exactly as it was before the message, and
the app sends the message again once the action server is back (channels/gateway.py). Undoing a
saved turn with Rasa's ``rewind`` is no substitute: inside a form Rasa's tracker leaves out the
user messages between two runs of the form when it replays its events, so a ``rewind`` after a
form's second question takes the conversation back to before the form began (the enterprise's
place, name and mobile then land outside it, and no demand is ever opened).

``sequential_graph``: Rasa runs each of its graphs (the NLU pipeline once per message, the
policies once per predicted action) through dask's synchronous scheduler, which orders the graph
anew on every run: about 8 % of Rasa's CPU per turn under load (py-spy), for a dozen nodes that
run one after another on one thread anyway. The same graph (Rasa's own minimal schema for the
targets, its nodes and inputs) is now evaluated depth first, each node once, in dependency order;
a node's error propagates unchanged, as dask's own synchronous scheduler re-raises it.

``kept_connections``: Rasa opens a new aiohttp client session, hence a new TCP connection, for
every call to an endpoint (``EndpointConfig.request``: the action server, twice or more per form
turn), and closes it after the answer: about 8 % of Rasa's CPU per turn under load (py-spy,
``ClientSession.__aenter__`` and connecting). The session, configured exactly as Rasa configures
it (headers, basic auth, timeout), is now made once per endpoint settings and event loop and kept,
so its connections are reused. An idle connection is dropped after ``KEEPALIVE_S``, before the
action server's own keep-alive limit (Sanic's 5 s) closes it under a request. The request body
(the whole tracker, for each action call) is encoded by ujson (Sanic's own dependency), 2.3 times
as fast as the standard library's encoder on a tracker (5 % of Rasa's CPU per turn); what ujson
refuses (NaN, infinities, types it does not know) goes through ``json.dumps`` as before.

``slot_copies``: every copy of a tracker (Rasa makes several per action: to replay the history for
each policy, to travel back in time, for a form's temporary tracker) copies each of the domain's
66 slots with ``copy.copy``, which takes the generic ``__reduce_ex__`` path: about 10 % of Rasa's
CPU per turn under load (py-spy). Slots get a ``__copy__`` doing what that path does for them (a
new instance of the same class whose ``__dict__`` is updated from the original's, a shallow copy).

``event_types``: each event read back (the action server's answers, a tracker loaded from the
store) finds its class by ``Event.resolve_by_type``, which walks every subclass of ``Event``
recursively and asks ``inspect.isabstract`` of each, per event: about 4 % of Rasa's CPU per turn
(py-spy). The walk's result is now kept and walked again only after a new subclass of ``Event``
was defined (counted by ``Event.__init_subclass__``), so the answer is the stock one, first match
in the same order.

``form_mappings``: each run of a form works out again which of its slots' ``from_entity`` mappings
are unique to one slot (``FormAction._create_unique_entity_mappings``, a JSON text per mapping of
every required slot), because Rasa makes a new form action object for each run: about 3.5 % of
Rasa's CPU per turn (py-spy). The answer depends only on the form's name and the domain, so it is
kept per form and domain object.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from contextvars import ContextVar
from functools import cache
from typing import Any

APPLIED: list[str] = []
logger = logging.getLogger(__name__)
# the custom actions that could not be reached during the user message being handled (None
# outside one): set by RemoteAction.run, read when the processor saves the tracker
_UNREACHED: ContextVar[list[str] | None] = ContextVar("qclinic_unreached", default=None)


@cache
def _response_validator() -> Any:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@cache
def _event_validators() -> dict[str, Any]:
    """Per event name, the event schema with its one alternative for that name (parts of the
    response schema, which ``_response_validator`` checks)."""
    from jsonschema import validators
    from rasa.shared.utils.schemas.events import EVENT_SCHEMA

    cls = validators.validator_for(EVENT_SCHEMA)
    common = {key: value for key, value in EVENT_SCHEMA.items() if key != "oneOf"}
    named = {}
    for alternative in EVENT_SCHEMA["oneOf"]:
        schema = {**common, "allOf": [alternative]}
        named[alternative["properties"]["event"]["const"]] = cls(schema)
    return named


@cache
def _without_events_validator() -> Any:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    schema = {**schema, "properties": {"responses": schema["properties"]["responses"]}}
    return validators.validator_for(schema)(schema)


def quickly_valid(result: Any) -> bool:
    """True only when ``result`` is valid under Rasa's response schema (False: check in full)."""
    if not isinstance(result, dict) or not _without_events_validator().is_valid(result):
        return False
    events = result.get("events", [])
    if not isinstance(events, list):
        return False
    named = _event_validators()
    for event in events:
        name = event.get("event") if isinstance(event, dict) else None
        validator = named.get(name) if isinstance(name, str) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


def action_validation() -> None:
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.core.actions import action
    from rasa.shared.constants import DOCS_BASE_URL

    def _validate_action_result(self: action.RemoteAction, result: dict[str, Any]) -> bool:
        if quickly_valid(result):
            return True
        # the error jsonschema.validate raises: the best match among all of them
        error: ValidationError | None = best_match(_response_validator().iter_errors(result))
        if error is None:
            return True
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    action.RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    APPLIED.append("action_validation")


def without_jax() -> None:
    sys.modules.setdefault("jax", None)  # type: ignore[arg-type]  # None: "not installed"
    APPLIED.append("without_jax")


def tracker_store_errors() -> None:
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore
    from rasa.shared.core.domain import Domain

    def _create_tracker_store(store: TrackerStore | None, domain: Domain) -> TrackerStore:
        if store is None:
            return InMemoryTrackerStore(domain)
        store.domain = domain
        return store

    Agent._create_tracker_store = staticmethod(_create_tracker_store)  # type: ignore[method-assign]
    APPLIED.append("tracker_store_errors")


TURN_FAILED = "qclinic_turn_failed"


def _unreachable(exc: BaseException | None) -> bool:
    import aiohttp

    while exc is not None:
        if isinstance(exc, aiohttp.ClientConnectionError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def remote_action_failures() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.processor import MessageProcessor

    original = RemoteAction.run

    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any):  # type: ignore[no-untyped-def]
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except Exception as exc:
            if _unreachable(exc) and isinstance(output_channel, CollectingOutputChannel):
                marker = {"recipient_id": tracker.sender_id, "custom": {TURN_FAILED: self.name()}}
                output_channel.messages.append(marker)
                unreached = _UNREACHED.get()
                if unreached is not None:
                    unreached.append(self.name())
            raise

    original_handle = MessageProcessor.handle_message
    original_save = MessageProcessor.save_tracker

    async def handle_message(self: MessageProcessor, message: Any) -> Any:
        token = _UNREACHED.set([])
        try:
            return await original_handle(self, message)
        finally:
            _UNREACHED.reset(token)

    async def save_tracker(self: MessageProcessor, tracker: Any) -> None:
        if unreached := _UNREACHED.get():  # the turn never happened: the message comes again
            logger.warning(
                "turn not saved, action server unreachable conversation=%s actions=%s",
                tracker.sender_id,
                ",".join(unreached),
            )
            return
        await original_save(self, tracker)

    RemoteAction.run = run  # type: ignore[method-assign]
    MessageProcessor.handle_message = handle_message  # type: ignore[method-assign]
    MessageProcessor.save_tracker = save_tracker  # type: ignore[method-assign]
    APPLIED.append("remote_action_failures")


def _evaluate(graph: dict[str, Any], targets: list[str]) -> list[Any]:
    """dask.get's result for a graph of Rasa's shape: a task is ``(callable, *keys)``, any other
    value (an input: ``(name, value)``) is data."""
    done: dict[str, Any] = {}

    def value(key: str) -> Any:
        if key not in done:
            task = graph[key]
            if isinstance(task, tuple) and task and callable(task[0]):
                args = [value(a) if isinstance(a, str) and a in graph else a for a in task[1:]]
                done[key] = task[0](*args)
            else:
                done[key] = task
        return done[key]

    return [value(target) for target in targets]


def sequential_graph() -> None:
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    def run(
        self: DaskGraphRunner,
        inputs: dict[str, Any] | None = None,
        targets: list[str] | None = None,
    ) -> dict[str, Any]:
        run_targets = targets if targets else self._graph_schema.target_names
        minimal_schema = self._graph_schema.minimal_graph_schema(run_targets)
        run_graph = self._build_dask_graph(minimal_schema)
        if inputs:
            self._add_inputs_to_graph(inputs, run_graph)
        try:
            return dict(_evaluate(run_graph, list(run_targets)))
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e

    DaskGraphRunner.run = run  # type: ignore[method-assign]
    APPLIED.append("sequential_graph")


KEEPALIVE_S = 2.0  # below Sanic's KEEP_ALIVE_TIMEOUT (5 s) on the action server


class _KeptSession:
    """``async with`` yields the kept session and leaves it open."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *_exc: object) -> None:
        return None


def kept_connections() -> None:
    import aiohttp
    import ujson
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    kept: dict[tuple[Any, ...], Any] = {}

    def dumps(value: Any) -> str:
        """JSON for a request body: ujson's, or the standard library's where ujson refuses."""
        try:
            return str(ujson.dumps(value))
        except (OverflowError, TypeError, ValueError):
            return json.dumps(value)

    def session(self: EndpointConfig) -> Any:
        loop = asyncio.get_running_loop()
        login = self.basic_auth
        key = (loop, tuple(sorted(self.headers.items())), tuple(sorted(login.items())))
        current = kept.get(key)
        if current is None or current.closed:  # as Rasa's own session(), once
            auth = aiohttp.BasicAuth(login["username"], login["password"]) if login else None
            current = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S),
                json_serialize=dumps,
            )
            kept[key] = current
        return _KeptSession(current)

    EndpointConfig.session = session  # type: ignore[method-assign,assignment]
    APPLIED.append("kept_connections")


def _shallow_copy(self: Any) -> Any:
    """copy.copy's result for an object without ``__slots__`` nor its own reduce or state."""
    new = type(self).__new__(type(self))
    new.__dict__.update(self.__dict__)
    return new


def slot_copies() -> None:
    from rasa.shared.core.slots import Slot

    Slot.__copy__ = _shallow_copy  # type: ignore[attr-defined]
    APPLIED.append("slot_copies")


def event_types() -> None:
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    defined = [0]  # subclasses of Event defined since the patch
    walked: dict[str, Any] = {"at": None, "classes": []}

    def __init_subclass__(cls: type, **kwargs: Any) -> None:
        defined[0] += 1
        super(Event, cls).__init_subclass__(**kwargs)  # type: ignore[misc]

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        if walked["at"] != defined[0]:
            walked["classes"] = rasa.shared.utils.common.all_subclasses(Event)
            walked["at"] = defined[0]
        for cls in walked["classes"]:
            if cls.type_name == type_name:
                return cls
        if type_name == "topic":
            return None  # as Rasa: old TopicSet events
        if default is not None:
            return default
        raise ValueError(f"Unknown event name '{type_name}'.")

    Event.__init_subclass__ = classmethod(__init_subclass__)  # type: ignore[assignment]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]
    APPLIED.append("event_types")


def form_mappings() -> None:
    from rasa.core.actions.forms import FormAction

    original = FormAction._create_unique_entity_mappings
    kept: dict[tuple[str, int], tuple[Any, set[str]]] = {}

    def _create_unique_entity_mappings(self: FormAction, domain: Any) -> set[str]:
        key = (self.name(), id(domain))
        entry = kept.get(key)
        if entry is None or entry[0] is not domain:  # the same object, not a reused id
            entry = (domain, original(self, domain))
            kept[key] = entry
        return set(entry[1])  # the caller's own copy, as before

    FormAction._create_unique_entity_mappings = _create_unique_entity_mappings  # type: ignore[method-assign]
    APPLIED.append("form_mappings")


def apply() -> list[str]:
    """Apply every patch once; returns the names applied (idempotent)."""
    if not APPLIED:
        without_jax()  # first: the next one imports Rasa, hence TensorFlow
        action_validation()
        tracker_store_errors()
        remote_action_failures()
        sequential_graph()
        kept_connections()
        slot_copies()
        event_types()
        form_mappings()
    return list(APPLIED)
