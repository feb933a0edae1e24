"""What the composing app hands to the routes in place of a provider's default.

The app (app/main.py) composes one settings object, its notifier and the channels' ports and
puts them in :func:`provided`, a table on ``app.state`` keyed by the default provider; a route's
dependency ``from_app(default)`` reads it, and falls back to the default in an app without it
(the desk alone, in tests). FastAPI's own ``dependency_overrides`` would do the same, but while
that dict is not empty FastAPI analyses every dependency of every request again (about 0.9 ms of
CPU per request: bench/fastapi_overrides_bench.py); tests may still use it for anything else.
"""

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from fastapi import FastAPI, Request

T = TypeVar("T")


def provided(app: FastAPI) -> dict[Callable[[], Any], Callable[[], Any]]:
    """The app's table: default provider → the factory the app uses instead."""
    table: dict[Callable[[], Any], Callable[[], Any]] | None = getattr(app.state, "provided", None)
    if table is None:
        table = app.state.provided = {}
    return table


@cache
def from_app(default: Callable[[], T]) -> Callable[[Request], T]:
    """The dependency: what the app provides for ``default``, else ``default()``."""

    def provide(request: Request) -> T:
        table = getattr(request.app.state, "provided", None) or {}
        factory: Callable[[], T] = table.get(default, default)
        return factory()

    provide.__qualname__ = provide.__name__ = f"from_app_{default.__name__}"
    return provide
