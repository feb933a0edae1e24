"""Throughput of whole need → demand conversations through the web chat API, on the real stack.

    .venv/bin/python bench/chat_load_bench.py [--users 1,20,50] [--conversations 2]
                                               [--variants patched,stock,two-rasa]

For each variant the whole assistant (app, Rasa, action server) is started on SQLite in a
temporary folder and warmed up: ``patched`` runs Rasa through bot/server's start-up patches and
its cached SQL tracker store, sending the domain only to the actions that need it; ``stock`` runs
the same server with ``QCLINIC_RASA_PATCHES=none``, Rasa's own ``SQL`` tracker store and the
domain sent with every action call (the landed baseline); ``two-rasa`` is ``patched`` with a
second Rasa server beside the first (the app sends each conversation to its home server, as with
replicas: docs/deploy.md), since one Rasa process is one core at most. Then, per user count,
every simulated enterprise runs ``--conversations`` conversations back to back with no think
time. Printed per variant and user count: turns/s, p50/p95 per turn, CPU milliseconds per turn
of each process (from /proc), and whether every conversation ended in its own demand.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml
from pydantic import SecretStr
from sqlalchemy import func, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.settings import AppSettings  # noqa: E402
from app.stack import Stack  # noqa: E402
from desk.db import get_sessionmaker  # noqa: E402
from desk.demands.models import Demand  # noqa: E402
from tests.support import free_port  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def script(n: int) -> list[str]:
    """One enterprise's conversation: the need, place, contact, mobile, yes."""
    return ["我们有一批电线电缆需要做检测", "江阴市周庄镇", "张伟", f"139{n:08d}", "好的"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its descendants."""
    total, children = 0.0, {pid}
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    grew = True
    while grew:
        grew = False
        for child, (parent, _) in stats.items():
            if parent in children and child not in children:
                children.add(child)
                grew = True
    for child in children:
        total += stats.get(child, (0, 0))[1] / TICKS
    return total


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    conversations: list[str] = field(default_factory=list)
    errors: int = 0


async def enterprise(client: httpx.AsyncClient, run: Run, user: int, conversations: int) -> None:
    for n in range(conversations):
        conversation_id = f"web:{uuid.uuid4()}"
        run.conversations.append(conversation_id)
        for text in script(user * 1000 + n):
            started = time.perf_counter()
            answer = await client.post(
                "/api/chat/messages", json={"conversation_id": conversation_id, "text": text}
            )
            run.latencies.append(time.perf_counter() - started)
            if answer.status_code != 200 or not answer.json().get("messages"):
                run.errors += 1


def demands_of(settings: AppSettings, conversation_ids: list[str]) -> dict[str, int]:
    assert settings.database_url
    with get_sessionmaker(settings.database_url)() as session:
        query = (
            select(Demand.conversation_id, func.count())
            .where(Demand.conversation_id.in_(conversation_ids))
            .group_by(Demand.conversation_id)
        )
        return {cid: count for cid, count in session.execute(query)}


def _cpu(stack: Stack, name: str) -> float:
    """The CPU seconds of a part, all its servers together (rasa, rasa2)."""
    pids = [p.pid for n, p in stack.processes.items() if n.rstrip("2") == name]
    return sum(cpu_seconds(pid) for pid in pids)


async def load(stack: Stack, users: int, conversations: int) -> dict[str, object]:
    run = Run()
    names = ("app", "rasa", "actions")
    before = {name: _cpu(stack, name) for name in names}
    limits = httpx.Limits(max_connections=users + 4)
    async with httpx.AsyncClient(
        base_url=stack.settings.desk_url, timeout=60, limits=limits
    ) as client:
        started = time.perf_counter()
        await asyncio.gather(*(enterprise(client, run, u, conversations) for u in range(users)))
        elapsed = time.perf_counter() - started
    after = {name: _cpu(stack, name) for name in names}
    turns = len(run.latencies)
    demands = demands_of(stack.settings, run.conversations)
    ordered = sorted(run.latencies)
    return {
        "users": users,
        "turns": turns,
        "turns_s": turns / elapsed,
        "p50": statistics.median(ordered) * 1000,
        "p95": ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000,
        "cpu": {n: (after[n] - before[n]) / turns * 1000 for n in names},
        "complete": sum(1 for c in run.conversations if demands.get(c) == 1),
        "conversations": len(run.conversations),
        "errors": run.errors,
    }


class StockStack(Stack):
    """The stack with Rasa's own SQL tracker store and the whole domain sent with every action
    call (the endpoints file rewritten)."""

    def commands(self) -> dict[str, list[str]]:
        commands = super().commands()
        endpoints = Path(commands["rasa"][commands["rasa"].index("--endpoints") + 1])
        config = yaml.safe_load(endpoints.read_text(encoding="utf-8"))
        config["tracker_store"]["type"] = "SQL"
        config["action_endpoint"].pop("enable_selective_domain", None)
        endpoints.write_text(yaml.safe_dump(config), encoding="utf-8")
        return commands


class TwoRasaStack(Stack):
    """The patched stack with a second Rasa server on its own port (same model, endpoints and
    tracker store); the app's gateway spreads the conversations over both."""

    second_port: int = 0

    def commands(self) -> dict[str, list[str]]:
        commands = super().commands()
        second = list(commands["rasa"])
        second[second.index("-p") + 1] = str(self.second_port)
        commands["rasa2"] = second
        return commands

    def ready_checks(self) -> dict[str, str]:
        checks = super().ready_checks()
        token = self.settings.secret("rasa_token")
        checks["rasa2"] = f"http://127.0.0.1:{self.second_port}/status?token={token}"
        return checks


def start(variant: str, folder: Path) -> Stack:
    rasa_port, second_port = free_port(), free_port()
    settings = AppSettings(
        database_url=f"sqlite:///{folder / 'desk.db'}",
        port=free_port(),
        rasa_port=rasa_port,
        rasa_urls=(
            f"http://127.0.0.1:{rasa_port},http://127.0.0.1:{second_port}"
            if variant == "two-rasa"
            else None
        ),
        actions_port=free_port(),
        service_token=SecretStr("bench-" + secrets.token_hex(8)),
        rasa_token=SecretStr("bench-" + secrets.token_hex(8)),
        admin_password=SecretStr("bench-" + secrets.token_hex(8)),
    )
    os.environ["QCLINIC_RASA_PATCHES"] = "none" if variant == "stock" else "all"
    # one client address and no think time: the chat's rate limits would refuse the load
    os.environ["QCLINIC_RATE_LIMIT_PER_ADDRESS"] = "0"
    os.environ["QCLINIC_RATE_LIMIT_PER_CONVERSATION"] = "0"
    kind = {"stock": StockStack, "two-rasa": TwoRasaStack}.get(variant, Stack)
    stack = kind(settings=settings, log_dir=folder / "logs")
    if isinstance(stack, TwoRasaStack):
        stack.second_port = second_port
    stack.start()
    stack.wait_ready(timeout_s=300)
    stack.warm()  # as `make run` does
    return stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="1,20,50")
    parser.add_argument("--conversations", type=int, default=2, help="per simulated enterprise")
    parser.add_argument("--variants", default="patched,stock")
    args = parser.parse_args()
    user_counts = [int(u) for u in args.users.split(",")]
    rows: list[tuple[str, dict[str, object]]] = []
    for variant in args.variants.split(","):
        with tempfile.TemporaryDirectory(prefix=f"chat-bench-{variant}-") as tmp:
            stack = start(variant, Path(tmp))
            try:
                asyncio.run(load(stack, 1, 1))  # warm-up: first turns load what is lazy
                for users in user_counts:
                    rows.append((variant, asyncio.run(load(stack, users, args.conversations))))
                    print(f"[bench] {variant} {users} users done", file=sys.stderr, flush=True)
            finally:
                stack.stop()
    print(f"\n{args.conversations} conversations of 5 turns per user, no think time, SQLite\n")
    print("| variant | users | turns/s | p50 ms | p95 ms | CPU ms/turn app · rasa · actions "
          "| own demand | errors |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for variant, r in rows:
        cpu = r["cpu"]
        assert isinstance(cpu, dict)
        print(
            f"| {variant} | {r['users']} | {r['turns_s']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} "
            f"| {cpu['app']:.0f} · {cpu['rasa']:.0f} · {cpu['actions']:.0f} "
            f"| {r['complete']}/{r['conversations']} | {r['errors']} |"
        )


if __name__ == "__main__":
    main()
