"""Keep the assistant's processes running: a part that exits is started again, with backoff.

`make run` watches the Rasa server, the action server and the app. A part that exits on its
own (a crash, an out-of-memory kill) is started again after 1 s, then 2, 4 … up to 30 s while
it keeps failing; once it has run for a minute its next failure starts the count afresh. Every
exit and restart is said on the console and in the log (as systemd's ``Restart=on-failure``
with ``RestartSec`` would; docs/deploy.md gives the units).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


class Process(Protocol):
    returncode: int | None

    def poll(self) -> int | None: ...


@dataclass
class Backoff:
    base_s: float = 1.0
    cap_s: float = 30.0
    stable_s: float = 60.0  # a part that ran this long has recovered: its count starts afresh

    def delay(self, failures: int) -> float:
        return float(min(self.cap_s, self.base_s * 2 ** max(0, failures - 1)))


@dataclass
class _Watch:
    started_at: float
    failures: int = 0
    restart_at: float | None = None  # set while the part is down and waiting for its restart


class Supervisor:
    """Polls the parts (``check``) and starts an exited one again when its backoff is over."""

    def __init__(
        self,
        *,
        processes: dict[str, Process],
        start: Callable[[str], Process],
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        say: Callable[[str], None] = print,
    ) -> None:
        self._processes = processes
        self._start = start
        self._backoff = backoff or Backoff()
        self._clock = clock
        self._say = say
        now = clock()
        self._watches = {name: _Watch(started_at=now) for name in processes}
        self.restarts: dict[str, int] = dict.fromkeys(processes, 0)

    def check(self) -> None:
        now = self._clock()
        for name, watch in self._watches.items():
            if watch.restart_at is None:
                code = self._processes[name].poll()
                if code is None:
                    continue
                if now - watch.started_at >= self._backoff.stable_s:
                    watch.failures = 0
                watch.failures += 1
                delay = self._backoff.delay(watch.failures)
                watch.restart_at = now + delay
                nth = watch.failures
                self._tell(f"{name} 已退出（{code}），{delay:.0f} 秒后重启（第 {nth} 次）")
            elif now >= watch.restart_at:
                self._processes[name] = self._start(name)
                watch.started_at, watch.restart_at = now, None
                self.restarts[name] += 1
                self._tell(f"{name} 已重启")

    def down(self) -> list[str]:
        """The parts waiting for their restart."""
        return [name for name, watch in self._watches.items() if watch.restart_at is not None]

    def _tell(self, line: str) -> None:
        log.warning(line)
        self._say(line)
