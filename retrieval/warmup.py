"""Load the model and index in the background, so the first user does not wait for them.

``state()`` tells how far it got: ``warming`` until the first search ran, then ``ok``, or
``failed`` when it could not (an index that is missing now may be built later; searches then
load it themselves). Without a warm-up (unit tests) it is ``ok``: the first use loads them."""

import logging
import threading

log = logging.getLogger(__name__)
_started = threading.Event()
_done = threading.Event()
_failed = threading.Event()


def _warm() -> None:
    from retrieval.search import get_searcher

    try:
        get_searcher().search("预热", kind="service", k=1)
        log.info("retrieval warmed up")
    except Exception as exc:  # an index that is missing now may be built later
        _failed.set()
        log.warning("retrieval warm-up skipped: %r", exc)
    finally:
        _done.set()


def state() -> str:
    if _started.is_set() and not _done.is_set():
        return "warming"
    return "failed" if _failed.is_set() else "ok"


def start_background() -> threading.Thread:
    _started.set()
    thread = threading.Thread(target=_warm, name="retrieval-warmup", daemon=True)
    thread.start()
    return thread
