"""Scale-out: two app replicas and two Rasa servers on PostgreSQL + Redis behind nginx.

Twenty enterprises each run a need → demand conversation through nginx (no pause between
turns, each message sent once the previous one was answered, as a person does, except that
half of them type their second message right after the first); nginx spreads
their messages over both app replicas, so consecutive messages of one conversation reach
different replicas. When half of the messages are answered, one app replica and one Rasa server
are killed (SIGKILL): a message the dead replica held is sent again by the client with its
message id (nginx answers 503 meanwhile), and one the dead Rasa server held is looked up and
sent to the other. Afterwards the database shows every conversation finished, in order, with
one demand each; no message lost (five rows, all done), none kept or answered twice (one
transcript line per user message, one user event per message in Rasa's tracker store).

The two app replicas start at the same moment on a new database: the migrations run once
under their lock. nginx runs from a temporary prefix as an unprivileged user; Redis is db 11.
"""

import asyncio
import itertools
import json
import os
import pwd
import secrets
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from app import proxy
from app.settings import AppSettings
from app.stack import Stack
from tests.e2e.conftest import postgres_database
from tests.support import free_port

REDIS_DB = 11  # others use 0 and random prefixes there
CONVERSATIONS = 20
KILL_AFTER = 50  # answered messages (of 100) before one app replica and one Rasa server die
ANSWER_WITHIN_S = 150.0
BURST_GAP_S = 0.3  # between two messages typed one after the other


def script(n: int) -> list[str]:
    """One enterprise's conversation (bench/chat_load_bench.py): need, place, contact, yes."""
    return ["我们有一批电线电缆需要做检测", "江阴市周庄镇", "张伟", f"139{n:08d}", "好的"]


@dataclass
class Replicas:
    nginx_url: str
    database_url: str
    apps: list[Stack]
    rasas: list[Stack]
    actions: Stack
    nginx: subprocess.Popen  # type: ignore[type-arg]
    prefix: Path
    logs: Path

    def kill(self, stack: Stack, name: str) -> None:
        process = stack.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for stack in [*self.apps, *self.rasas, self.actions]:
            stack.stop()
        if self.nginx.poll() is None:
            self.nginx.terminate()
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()

    def dump_logs(self) -> None:
        for log in sorted(self.logs.rglob("*.log")):
            print(f"--- {log}\n{log.read_text(errors='replace')[-3000:]}")
        error_log = self.prefix / "error.log"
        if error_log.exists():
            print(f"--- nginx\n{error_log.read_text(errors='replace')[-3000:]}")


def start_nginx(prefix: Path, listen: int, apps: list[int], body: int) -> subprocess.Popen:  # type: ignore[type-arg]
    config = proxy.render(
        listen=f"127.0.0.1:{listen}",
        apps=[f"127.0.0.1:{port}" for port in apps],
        prefix=prefix,
        max_body_bytes=body,
        daemon=False,
        workers="1",
    )
    proxy.write(prefix, config)
    user: dict[str, object] = {}
    if os.geteuid() == 0:  # never as root: the unprivileged user owns the prefix
        nobody = pwd.getpwnam("nobody")
        for folder, _dirs, files in os.walk(prefix):
            os.chown(folder, nobody.pw_uid, nobody.pw_gid)
            for name in files:
                os.chown(Path(folder) / name, nobody.pw_uid, nobody.pw_gid)
        user = {"user": nobody.pw_uid, "group": nobody.pw_gid}
    with open(prefix / "stderr.log", "ab") as log:
        return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
            proxy.command(prefix), stdout=log, stderr=subprocess.STDOUT, **user
        )


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    logs = tmp_path_factory.mktemp("replicas")
    prefix = Path(tempfile.mkdtemp(prefix="qclinic-nginx-"))  # /tmp: reachable by nobody
    app_ports, rasa_ports = [free_port(), free_port()], [free_port(), free_port()]
    nginx_port, actions_port = free_port(), free_port()
    nginx_url = f"http://127.0.0.1:{nginx_port}"
    with postgres_database() as url:
        common = dict(
            database_url=url,
            redis_url=f"redis://127.0.0.1:6379/{REDIS_DB}",
            actions_port=actions_port,
            rasa_urls=",".join(f"http://127.0.0.1:{p}" for p in rasa_ports),
            service_token=SecretStr("e2e-service-" + secrets.token_hex(8)),
            rasa_token=SecretStr("e2e-rasa-" + secrets.token_hex(8)),
            admin_password=SecretStr("e2e-admin-" + secrets.token_hex(8)),
        )
        timing = {  # a dead part's turn is taken over within a minute (lease = timeout + 30 s)
            "QCLINIC_RASA_TIMEOUT_S": "10",
            "QCLINIC_TURN_SETTLE_S": "5",
            "QCLINIC_RETRY_INTERVAL_S": "1",
            "QCLINIC_RATE_LIMIT_PER_ADDRESS": "0",  # one test client for twenty enterprises
            "TICKET_LOCK_LIFETIME": "15",  # Rasa's lock of a conversation a dead server held
        }

        def stack(name: str, port: int, rasa_port: int, **env: str) -> Stack:
            settings = AppSettings(port=port, rasa_port=rasa_port, **common)  # type: ignore[arg-type]
            return Stack(settings=settings, log_dir=logs / name, env={**timing, **env})

        apps = [stack(f"app{i}", p, rasa_ports[i]) for i, p in enumerate(app_ports)]
        rasas = [stack(f"rasa{i}", app_ports[0], p) for i, p in enumerate(rasa_ports)]
        actions = stack("actions", app_ports[0], rasa_ports[0], QCLINIC_DESK_URL=nginx_url)
        nginx = start_nginx(prefix, nginx_port, app_ports, proxy.body_limit(apps[0].settings))
        group = Replicas(nginx_url, url, apps, rasas, actions, nginx, prefix, logs)
        try:
            for app in apps:  # together: they migrate the new database at the same moment
                app.start_one("app")
            for rasa in rasas:
                rasa.start_one("rasa")
            actions.start_one("actions")
            for part in [*apps, *rasas, actions]:
                part.wait_ready(timeout_s=300)
            for rasa in rasas:
                rasa.warm()
            assert httpx.get(f"{nginx_url}/health", timeout=10).status_code == 200
            yield group
        except Exception:
            group.dump_logs()
            raise
        finally:
            group.stop()
            shutil.rmtree(prefix, ignore_errors=True)


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    resends: int = 0
    answered: int = 0
    killed_at: float | None = None
    unavailable: Counter[int] = field(default_factory=Counter)


def status_of(engine: object, key: str) -> str | None:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        return connection.execute(  # type: ignore[no-any-return]
            text("SELECT status FROM chat_inbound WHERE dedupe_key = :key"), {"key": key}
        ).scalar()


async def say(
    client: httpx.AsyncClient,
    engine: object,
    run: Run,
    kill: asyncio.Event,
    conversation_id: str,
    k: int,
    words: str,
) -> None:
    """One message, resent with its id until an app takes it, then awaited until answered."""
    loop = asyncio.get_running_loop()
    message_id = f"m{k}-{secrets.token_hex(4)}"
    body = {"conversation_id": conversation_id, "text": words, "message_id": message_id}
    deadline = loop.time() + ANSWER_WITHIN_S
    while True:
        started = time.perf_counter()
        try:
            answer = await client.post(
                "/api/chat/messages", json=body, headers={"X-Request-ID": f"{conversation_id}/{k}"}
            )
        except httpx.TransportError:
            answer = None
        if answer is not None and answer.status_code == 200:
            run.latencies.append(time.perf_counter() - started)
            break
        if answer is not None:
            assert answer.status_code == 503, answer.text  # nginx: the replica is gone
            assert answer.json()["detail"]["code"] == "unavailable"
            run.unavailable[answer.status_code] += 1
        run.resends += 1
        assert loop.time() < deadline, f"no app answered {conversation_id} #{k}"
        await asyncio.sleep(1.0)
    key = f"{conversation_id}:{message_id}"
    while await asyncio.to_thread(status_of, engine, key) != "done":  # replies, maybe later
        assert loop.time() < deadline, f"{conversation_id} #{k} never answered"
        await asyncio.sleep(0.5)
    run.answered += 1
    if run.answered >= KILL_AFTER:
        kill.set()


async def enterprise(
    client: httpx.AsyncClient, engine: object, run: Run, n: int, kill: asyncio.Event
) -> str:
    """Half of the enterprises send their second message 0.3 s after the first, before its
    answer (a person who types on): the two may reach different replicas at once."""
    conversation_id = f"web:replica-{n:02d}-{secrets.token_hex(4)}"
    words = script(n)
    first = 0
    if n % 2 == 0:

        async def soon_after() -> None:
            await asyncio.sleep(BURST_GAP_S)
            await say(client, engine, run, kill, conversation_id, 1, words[1])

        await asyncio.gather(
            say(client, engine, run, kill, conversation_id, 0, words[0]), soon_after()
        )
        first = 2
    for k in range(first, len(words)):
        await say(client, engine, run, kill, conversation_id, k, words[k])
    return conversation_id


def upstreams(access_log: Path) -> dict[str, str]:
    """conversation/k → the app replica that answered it (200), from nginx's access log."""
    served: dict[str, str] = {}
    for line in access_log.read_text().splitlines():
        if "/api/chat/messages" in line and '" 200 ' in line:
            rid = line.split("rid=", 1)[1].split()[0]
            served[rid] = line.rsplit("upstream=", 1)[1].split(",")[-1].strip()
    return served


def test_two_app_replicas_and_two_rasa_servers_survive_losing_one_of_each(
    replicas: Replicas,
) -> None:
    engine = create_engine(replicas.database_url.replace("postgresql://", "postgresql+psycopg://"))
    run = Run()

    async def drive() -> list[str]:
        kill = asyncio.Event()

        async def killer() -> None:
            await kill.wait()
            run.killed_at = time.perf_counter()
            replicas.kill(replicas.apps[0], "app")
            replicas.kill(replicas.rasas[0], "rasa")

        limits = httpx.Limits(max_connections=CONVERSATIONS + 4)
        async with httpx.AsyncClient(
            base_url=replicas.nginx_url, timeout=60, limits=limits
        ) as client:
            killing = asyncio.create_task(killer())
            ids = await asyncio.gather(
                *(enterprise(client, engine, run, n, kill) for n in range(CONVERSATIONS))
            )
            await killing
        return list(ids)

    started = time.perf_counter()
    conversation_ids = asyncio.run(drive())
    elapsed = time.perf_counter() - started
    assert run.killed_at is not None
    assert replicas.apps[0].processes["app"].poll() is not None  # really dead
    assert replicas.rasas[0].processes["rasa"].poll() is not None

    with engine.connect() as db:
        for n, conversation_id in enumerate(conversation_ids):
            words = script(n)
            rows = db.execute(
                text(
                    "SELECT id, bot_text, status FROM chat_inbound"
                    " WHERE conversation_id = :c ORDER BY id"
                ),
                {"c": conversation_id},
            ).all()
            assert [r.bot_text for r in rows] == words  # each kept once, in order
            assert {r.status for r in rows} == {"done"}
            lines = db.execute(
                text(
                    "SELECT sender, text, payload FROM chat_messages"
                    " WHERE conversation_id = :c ORDER BY id"
                ),
                {"c": conversation_id},
            ).all()
            assert [line.text for line in lines if line.sender == "user"] == words
            answered = [line.payload["inbound_id"] for line in lines if line.sender == "bot"]
            assert answered == sorted(answered)  # replies in the order of the messages
            assert set(answered) == {r.id for r in rows}  # every message answered
            user_events = db.execute(
                text(
                    "SELECT data FROM events WHERE sender_id = :c AND type_name = 'user'"
                    " ORDER BY id"
                ),
                {"c": conversation_id},
            ).all()
            said = [json.loads(e.data)["text"] for e in user_events]
            assert said == words  # Rasa took each message once, in order
            demands = db.execute(
                text("SELECT count(*) FROM demands WHERE conversation_id = :c"),
                {"c": conversation_id},
            ).scalar()
            assert demands == 1, conversation_id
        versions = db.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert len(versions) == 1  # one head, migrated once by the two replicas together
    engine.dispose()

    served = upstreams(replicas.prefix / "access.log")
    by_conversation: dict[str, list[str]] = defaultdict(list)
    for rid, upstream in sorted(served.items(), key=lambda kv: kv[0]):
        by_conversation[rid.rsplit("/", 1)[0]].append(upstream)
    pairs = [(a, b) for ups in by_conversation.values() for a, b in itertools.pairwise(ups)]
    switched = sum(a != b for a, b in pairs)
    bursts = [  # the two messages typed together: on two replicas at once
        ups[0] != ups[1]
        for rid, ups in by_conversation.items()
        if int(rid.split("-")[1]) % 2 == 0 and len(ups) > 1
    ]
    replica_counts = Counter(served.values())
    ordered = sorted(run.latencies)
    print(
        f"\nreplicas: {len(run.latencies)} messages in {elapsed:.1f}s, "
        f"p50 {statistics.median(ordered) * 1000:.0f} ms, "
        f"p95 {ordered[int(len(ordered) * 0.95) - 1] * 1000:.0f} ms, resends {run.resends}, "
        f"served {dict(replica_counts)}, consecutive on another replica {switched}/{len(pairs)}, "
        f"typed-together pairs on two replicas {sum(bursts)}/{len(bursts)}"
    )
    assert len(replica_counts) == 2  # both replicas served
    # consecutive messages really crossed replicas (about half of those before the kill do;
    # after it, one replica serves all)
    assert switched >= 5
