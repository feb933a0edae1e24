"""The launcher's supervisor: an exited part is started again with growing, capped backoff."""

from dataclasses import dataclass

from app.supervisor import Backoff, Supervisor


@dataclass
class FakeProcess:
    returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock) -> tuple[Supervisor, dict[str, FakeProcess], list[str], list[str]]:
    processes = {"rasa": FakeProcess(), "app": FakeProcess()}
    started: list[str] = []
    said: list[str] = []

    def start(name: str) -> FakeProcess:
        started.append(name)
        processes[name] = FakeProcess()
        return processes[name]

    supervisor = Supervisor(
        processes=dict(processes),
        start=start,
        backoff=Backoff(base_s=1, cap_s=8, stable_s=60),
        clock=clock,
        say=said.append,
    )
    return supervisor, processes, started, said


def test_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(base_s=1, cap_s=30)
    assert [backoff.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_killed_part_is_restarted_after_its_delay_and_the_others_are_left_alone() -> None:
    clock = Clock()
    supervisor, processes, started, said = make(clock)
    supervisor.check()
    assert started == [] and said == []

    processes["rasa"].returncode = -9
    supervisor.check()
    assert said == ["rasa 已退出（-9），1 秒后重启（第 1 次）"]
    assert supervisor.down() == ["rasa"]
    assert started == []  # not before its delay

    clock.now += 1
    supervisor.check()
    assert started == ["rasa"]
    assert said[-1] == "rasa 已重启"
    assert supervisor.down() == [] and supervisor.restarts == {"rasa": 1, "app": 0}


def test_a_part_that_ran_a_minute_before_failing_starts_its_count_afresh() -> None:
    clock = Clock()
    supervisor, _, _, said = make(clock)
    for _ in range(3):  # fails at once, three times: 1, 2, 4 s
        _latest(supervisor, "app").returncode = 1
        supervisor.check()
        clock.now += 8
        supervisor.check()
    clock.now += 60  # then runs a minute
    _latest(supervisor, "app").returncode = 1
    supervisor.check()
    assert said[-1] == "app 已退出（1），1 秒后重启（第 1 次）"


def test_a_part_that_fails_at_once_again_and_again_backs_off_to_the_cap() -> None:
    clock = Clock()
    supervisor, _, started, said = make(clock)
    lines = []
    for _ in range(6):
        _latest(supervisor, "rasa").returncode = 1
        supervisor.check()
        lines.append(said[-1])
        clock.now += 8  # just past the longest delay; the part runs only 0 s before failing
        supervisor.check()
    assert [line.split("，")[1] for line in lines] == [
        "1 秒后重启（第 1 次）",
        "2 秒后重启（第 2 次）",
        "4 秒后重启（第 3 次）",
        "8 秒后重启（第 4 次）",
        "8 秒后重启（第 5 次）",
        "8 秒后重启（第 6 次）",
    ]
    assert started == ["rasa"] * 6


def _latest(supervisor: Supervisor, name: str) -> FakeProcess:
    process = supervisor._processes[name]
    assert isinstance(process, FakeProcess)
    return process
