"""Load the model and index in the background, so the first user does not wait for them."""

import logging
import threading

log = logging.getLogger(__name__)


def _warm() -> None:
    from retrieval.search import get_searcher

    try:
        get_searcher().search("预热", kind="service", k=1)
        log.info("retrieval warmed up")
    except Exception as exc:  # an index that is missing now may be built later
        log.warning("retrieval warm-up skipped: %r", exc)


def start_background() -> threading.Thread:
    thread = threading.Thread(target=_warm, name="retrieval-warmup", daemon=True)
    thread.start()
    return thread
