"""What a channel hands the conversation core, what it gets back, and what it lends it.

* :class:`Incoming`: a user's message as the channel understood it;
* :class:`Outcome`: how the turn's answer reaches the user (in this answer, or later);
* :class:`Deliverer`: the channel's way to reach the user later (WeChat's outbox, the web
  page's stream) and to note that the user got in touch;
* :class:`Bot`: the bot's side of a turn (:class:`channels.gateway.RasaGateway`).
"""

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from channels.gateway import BotMessage

State = Literal["replied", "later", "unavailable"]


@dataclass(frozen=True)
class Incoming:
    """A user's message as a channel understood it."""

    conversation_id: str
    channel: str
    text: str  # the user's words, as the transcript keeps them
    bot_text: str | None  # what Rasa gets; None: no bot turn (the local replies answer)
    dedupe_key: str | None = None
    kind: str = "text"
    payload: dict[str, Any] = field(default_factory=dict)
    local_replies: tuple[BotMessage, ...] = ()
    numbered_options: bool = False  # a digit picks one of the last turn's buttons (WeChat)


@dataclass
class Outcome:
    inbound_id: int
    state: State  # replied: messages go in this answer; later: they will be pushed
    messages: list[dict[str, Any]] = field(default_factory=list)
    duplicate: bool = False


class Deliverer(Protocol):
    """A channel's way to reach a user later, and to note that the user got in touch.

    ``on_contact`` and ``enqueue`` run inside the core's transaction (the one that accepts
    the message, or that hands a result over): they add to it and never commit."""

    def on_contact(self, session: Session, incoming: Incoming) -> None: ...

    def enqueue(
        self,
        session: Session,
        *,
        conversation_id: str,
        messages: list[dict[str, Any]],
        inbound_id: int | None,
    ) -> None: ...

    async def wake(self) -> None: ...


class Bot(Protocol):
    """One bot turn, and a turn looked up again after a timeout (None: the bot never saw it)."""

    async def turn(
        self,
        conversation_id: str,
        text: str,
        *,
        key: str | None = None,
        channel: str | None = None,
    ) -> list[BotMessage]: ...

    async def find_turn(self, conversation_id: str, key: str) -> list[BotMessage] | None: ...
