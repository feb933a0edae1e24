"""The knowledge every process serves: the live index version's entries, kept fresh cheaply.

``live_knowledge()`` answers from memory and looks at ``CURRENT`` at most every
``CHECK_INTERVAL_S`` seconds (one ``stat``); when another process published a new version it
reads that version's ``entries.json`` (no FAISS, no model), so the complaint matcher,
reports, the consultation console and the bot's actions see a publication without restart.
Without any index (a bare checkout) it falls back to the packaged YAML sample.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from knowledge.schema import parse_entry
from knowledge.store import KnowledgeBase, load_knowledge
from retrieval.index import CURRENT, ENTRIES, current_version
from retrieval.settings import RetrievalSettings, get_settings

CHECK_INTERVAL_S = 0.25


@dataclass
class _State:
    stamp: tuple[int, int] | None  # (inode, mtime_ns) of CURRENT
    version: str | None
    knowledge: KnowledgeBase
    checked: float


_lock = threading.Lock()
_states: dict[str, _State] = {}


def _stamp(root: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(root / CURRENT)
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_mtime_ns)


@lru_cache(maxsize=1)
def _sample() -> KnowledgeBase:
    return load_knowledge()


def _read(root: Path, version: str | None) -> KnowledgeBase:
    if version is None:
        return _sample()
    try:
        raw = json.loads((root / version / ENTRIES).read_text("utf-8"))
    except FileNotFoundError:  # an old index without its entries, or pruned meanwhile
        return _sample()
    return KnowledgeBase.from_entries(parse_entry(item) for item in raw)


def live_knowledge(
    settings: RetrievalSettings | None = None, *, interval_s: float = CHECK_INTERVAL_S
) -> KnowledgeBase:
    """The entries of the live index version (drafts too), at most ``interval_s`` old."""
    settings = settings or get_settings()
    root = settings.index_dir
    key = str(root)
    now = time.monotonic()
    state = _states.get(key)
    if state is not None and now - state.checked < interval_s:
        return state.knowledge
    stamp = _stamp(root)
    if state is not None and stamp == state.stamp:
        state.checked = now
        return state.knowledge
    with _lock:
        state = _states.get(key)
        if state is not None and state.stamp == stamp:
            return state.knowledge
        for _ in range(5):  # the version may be pruned between reading CURRENT and its entries
            version = current_version(root)
            knowledge = _read(root, version)
            if current_version(root) == version:
                break
        _states[key] = _State(stamp, version, knowledge, time.monotonic())
        return knowledge


def live_version(settings: RetrievalSettings | None = None) -> str | None:
    """The name of the live index version (``None`` before the first build)."""
    return current_version((settings or get_settings()).index_dir)
