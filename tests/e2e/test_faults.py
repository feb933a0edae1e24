"""Faults survived (issue 13): a part of the assistant goes away during a run and comes back.

One stack (real Rasa, action server and app) on PostgreSQL and Redis, both reached through a
:class:`TcpProxy` that can cut every connection and refuse new ones for a while, as a server
restart does. For each fault, several enterprises run a whole need → demand conversation through
the web chat API while the part is away:

* every message gets an HTTP answer within the web chat's promise (its reply deadline, after
  which the page is told the answer follows): a reply or a clear Chinese notice, never a 5xx;
* a message the page was told is kept is answered when the part is back: its reply reaches the
  transcript (what the page's stream shows), and the conversation carries on from there;
* afterwards, in the database: each conversation has exactly one demand, every user message is
  in the transcript once, and no bot reply is stored twice.

Per fault the module prints the messages sent during the fault, the slowest HTTP answer and
how long the kept ones waited for their reply.
"""

import asyncio
import json
import os
import secrets
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.settings import AppSettings
from app.stack import Stack
from channels.gateway import BOT_UNAVAILABLE
from channels.models import InboundMessage
from channels.transcript import ChatMessage
from channels.web.router import LATER
from desk.db import get_sessionmaker
from desk.demands.models import Demand
from tests.channels.conftest import new_aes_key
from tests.channels.servers import FakeWeChat, ServerThread, wechat_api_app
from tests.channels.wechat_calls import WeChatPlatform, text_xml
from tests.e2e.conftest import postgres_database, running, stack_settings
from tests.tcp_proxy import TcpProxy

DEFAULTS = AppSettings.model_fields
DEADLINE_S = DEFAULTS["web_reply_deadline_s"].default + 2.0  # the page's promise, + HTTP
# A turn that timed out in Rasa (a cold action server just back) is looked up in the tracker
# after the settle time; this stack settles sooner than the default minute to keep the run short.
SETTLE_S = 20.0
RETRY_S = DEFAULTS["retry_interval_s"].default
# a kept message is answered at most this long after its part is back: a timed-out turn, its
# settle time, a few retry rounds
REPLY_WAIT_S = DEFAULTS["rasa_timeout_s"].default + SETTLE_S + 3 * RETRY_S + 15.0
CONVERSATIONS = 4
WECHAT_FOLLOWERS = 2  # beside the web conversations, in the faults that take WeChat along
WECHAT_TOKEN, WECHAT_AES_KEY = "tk" + secrets.token_hex(8), new_aes_key()
SPOOLED = "database away: spooled"  # channels/conversations.py's log line


def script(n: int) -> list[str]:
    """One enterprise's conversation: the need, place, contact, mobile, yes."""
    return ["我们有一批电线电缆需要做检测", "江阴市周庄镇", "张伟", f"1391234{n:04d}", "好的"]


@dataclass
class Sent:
    conversation_id: str
    text: str
    at: float  # monotonic, when it was sent
    status: int = 0
    seconds: float = 0.0  # until its HTTP answer
    kept: bool = False  # the page was told the reply follows
    answered_after: float | None = None  # kept: seconds from sending until the reply came
    error: str = ""
    deadline: float = DEADLINE_S  # the channel's promise for its HTTP answer


@dataclass
class Run:
    sent: list[Sent] = field(default_factory=list)
    fault: tuple[float, float] = (0.0, 0.0)  # monotonic start and end of the fault
    restarted: float = 0.0  # monotonic, when it was started again (or let through)
    back: float = 0.0  # monotonic, when the part answered again
    scripts: dict[str, list[str]] = field(default_factory=dict)  # conversation id: its lines

    def during(self) -> list[Sent]:
        start, end = self.fault
        return [s for s in self.sent if start <= s.at <= end]


def history(stack: Stack, conversation_id: str) -> list[dict]:  # type: ignore[type-arg]
    """The transcript the page shows (history; the stream carries the same rows)."""
    assert stack.settings.database_url
    with get_sessionmaker(stack.settings.database_url)() as session:
        rows = session.scalars(
            select(ChatMessage)
            .where(ChatMessage.conversation_id == conversation_id)
            .order_by(ChatMessage.id)
        )
        return [{"id": r.id, "sender": r.sender, "text": r.text} for r in rows]


async def wait_for_reply(stack: Stack, run: Run, sent: Sent) -> None:
    """The page waits for the kept message's reply on its stream: the transcript grows with a
    bot reply after the user's message that is not the apology."""
    cap = sent.at + 300  # the part never came back
    while time.monotonic() < min(cap, (run.back or cap) + REPLY_WAIT_S):
        try:
            rows = await asyncio.to_thread(history, stack, sent.conversation_id)
        except Exception:  # the database itself is away: the page's stream reconnects
            rows = []
        users = [r for r in rows if r["sender"] == "user" and r["text"] == sent.text]
        if users:
            after = [r for r in rows if r["id"] > users[-1]["id"] and r["sender"] == "bot"]
            if any(BOT_UNAVAILABLE not in r["text"] for r in after):
                sent.answered_after = time.monotonic() - sent.at
                return
        await asyncio.sleep(0.5)


async def converse(client: httpx.AsyncClient, stack: Stack, run: Run, n: int) -> str:
    conversation_id = f"web:fault-{secrets.token_hex(8)}"
    run.scripts[conversation_id] = script(n)
    for turn, text in enumerate(script(n)):
        sent = Sent(conversation_id, text, at=time.monotonic())
        run.sent.append(sent)
        body = {
            "conversation_id": conversation_id,
            "text": text,
            "message_id": f"m{turn}-{secrets.token_hex(6)}",
        }
        try:
            answer = await client.post("/api/chat/messages", json=body, timeout=60)
        except httpx.HTTPError as exc:
            sent.error, sent.seconds = repr(exc), time.monotonic() - sent.at
            return conversation_id
        sent.seconds, sent.status = time.monotonic() - sent.at, answer.status_code
        if answer.status_code != 200:
            sent.error = answer.text
            return conversation_id
        texts = [m.get("text") or "" for m in answer.json()["messages"]]
        if not any(texts):  # a turn the bot dropped: the user is left with nothing
            sent.error = "no reply"
            return conversation_id
        sent.kept = any(LATER in t or BOT_UNAVAILABLE in t for t in texts)
        if sent.kept:
            await wait_for_reply(stack, run, sent)
            if sent.answered_after is None:
                return conversation_id
        await asyncio.sleep(0.3)  # a person reads the answer before typing on
    return conversation_id


@dataclass
class WeChatSide:
    """WeChat's servers as the app sees them: callbacks posted, customer-service messages
    received (the stand-in of tests/channels/servers.py)."""

    platform: WeChatPlatform
    api: FakeWeChat


def _callback(wx: WeChatSide, openid: str, text: str) -> tuple[int, str | None, float]:
    started = time.monotonic()
    response = wx.platform.post(text_xml(openid, text, msg_id=secrets.randbelow(10**15)))
    seconds = time.monotonic() - started
    reply = wx.platform.reply(response) if response.status_code == 200 else None
    return response.status_code, None if reply is None else str(reply["Content"]), seconds


async def follow(wx: WeChatSide, run: Run, n: int) -> str:
    """A WeChat follower through the same conversation by encrypted callbacks: each answered
    within 5 s, passively or by 'success' and a customer-service message (客服消息)."""
    openid = "oFault" + secrets.token_urlsafe(12)
    conversation_id = f"wx:{openid}"
    run.scripts[conversation_id] = script(n)
    for text in script(n):
        before = len(wx.api.texts(openid))
        sent = Sent(conversation_id, text, at=time.monotonic(), deadline=5.0)
        run.sent.append(sent)
        try:
            sent.status, passive, sent.seconds = await asyncio.to_thread(
                _callback, wx, openid, text
            )
        except httpx.HTTPError as exc:
            sent.error, sent.seconds = repr(exc), time.monotonic() - sent.at
            return conversation_id
        sent.kept = passive is None or BOT_UNAVAILABLE in passive
        if sent.kept:  # the answer follows by customer-service message
            cap = sent.at + 300
            while time.monotonic() < min(cap, (run.back or cap) + REPLY_WAIT_S):
                later = wx.api.texts(openid)[before:]
                if any(BOT_UNAVAILABLE not in t for t in later):
                    sent.answered_after = time.monotonic() - sent.at
                    break
                await asyncio.sleep(0.5)
            else:
                return conversation_id
        await asyncio.sleep(1.0)  # a long answer's overflow follows; then the person reads
    return conversation_id


async def run_with_fault(  # type: ignore[no-untyped-def]
    stack: Stack, fault, *, conversations: int = CONVERSATIONS, wx: WeChatSide | None = None
) -> Run:
    """Conversations started a little apart (web, then WeChat followers when ``wx``);
    ``fault(run)`` (async) runs beside them."""
    run = Run()
    async with httpx.AsyncClient(base_url=stack.settings.desk_url) as client:

        async def later(n: int) -> str:
            await asyncio.sleep(n * 1.0)
            if wx is not None and n >= conversations:
                return await follow(wx, run, n)
            return await converse(client, stack, run, n)

        total = conversations + (WECHAT_FOLLOWERS if wx is not None else 0)
        await asyncio.gather(fault(run), *(later(n) for n in range(total)))
    return run


def outage(  # type: ignore[no-untyped-def]
    down: Callable[[], object],
    up: Callable[[], object],
    *,
    after_s: float,
    for_s: float,
    ready: Callable[[], object] | None = None,
):
    """A fault for :func:`run_with_fault`: the part goes away ``after_s`` into the run and
    ``up()`` is called ``for_s`` later; it is back when ``ready()`` (blocking) returns."""

    async def fault(run: Run) -> None:
        await asyncio.sleep(after_s)
        run.fault = (time.monotonic(), 0.0)
        await asyncio.to_thread(down)
        await asyncio.sleep(for_s)
        await asyncio.to_thread(up)
        run.restarted = time.monotonic()
        if ready is not None:
            await asyncio.to_thread(ready)
        run.back = time.monotonic()
        run.fault = (run.fault[0], run.back)  # away until it answers again

    return fault


def keep_evidence(stack: Stack, session: Session, demands: dict[str, int]) -> None:
    """Write each conversation's transcript, inbound rows and Rasa tracker events to
    ``<logs>/conversations.json``."""
    token = stack.settings.rasa_token.get_secret_value() if stack.settings.rasa_token else ""
    evidence = {}
    for conversation_id, count in demands.items():
        tracker = httpx.get(
            f"{stack.settings.rasa_url}/conversations/{conversation_id}/tracker",
            params={"token": token},
            timeout=10,
        )
        rows = session.scalars(
            select(InboundMessage)
            .where(InboundMessage.conversation_id == conversation_id)
            .order_by(InboundMessage.id)
        )
        evidence[conversation_id] = {
            "demands": count,
            "transcript": history(stack, conversation_id),
            "inbound": [
                {"id": r.id, "text": r.bot_text, "status": r.status, "attempts": r.attempts}
                for r in rows
            ],
            "tracker_events": tracker.json().get("events") if tracker.is_success else None,
        }
    path = stack.log_dir / "conversations.json"
    path.write_text(json.dumps(evidence, ensure_ascii=False, indent=1, default=str))
    print(f"\n[faults] conversations without exactly one demand: {path}")


def check(stack: Stack, run: Run, name: str) -> None:
    """The user's side (answers in time, kept ones answered) and the database afterwards."""
    during = run.during()
    kept = [s for s in run.sent if s.kept]
    waits = [s.at + s.answered_after - run.back for s in kept if s.answered_after is not None]
    for channel in ("web", "wx"):
        sent = [s for s in run.sent if s.conversation_id.startswith(channel + ":")]
        if not sent:
            continue
        waited = [s.answered_after for s in sent if s.answered_after is not None]
        after_back = [s.at + a - run.back for s in sent if (a := s.answered_after) is not None]
        print(
            f"\n[faults] {name} ({channel}): {len(sent)} messages, "
            f"{len([s for s in during if s in sent])} during the fault "
            f"({run.fault[1] - run.fault[0]:.0f} s), {len([s for s in sent if s.kept])} kept; "
            f"max answer {max(s.seconds for s in sent):.1f} s; kept ones waited at most "
            f"{max(waited, default=0):.1f} s, answered at most "
            f"{max(after_back, default=0):.1f} s after the part was back"
        )
    failed = [s for s in run.sent if s.status != 200 or s.error]
    assert not failed, [(s.text, s.status, s.error[:300]) for s in failed]
    slow = [s for s in run.sent if s.seconds > s.deadline]
    assert not slow, [(s.conversation_id, s.text, round(s.seconds, 1)) for s in slow]
    assert during, "no message was sent during the fault"
    unanswered = [s for s in kept if s.answered_after is None]
    assert not unanswered, [(s.conversation_id, s.text) for s in unanswered]
    assert max(waits, default=0) <= REPLY_WAIT_S, waits

    assert stack.settings.database_url
    ids = list(run.scripts)
    with get_sessionmaker(stack.settings.database_url)() as session:
        demands = dict(
            session.execute(
                select(Demand.conversation_id, func.count())
                .where(Demand.conversation_id.in_(ids))
                .group_by(Demand.conversation_id)
            ).all()
        )
        missing = [c for c in ids if demands.get(c) != 1]
        if missing:  # the evidence, kept beside the stack's logs (the database is dropped)
            keep_evidence(stack, session, {c: demands.get(c, 0) for c in missing})
        assert not missing, {
            c: [(r["sender"], r["text"][:40]) for r in history(stack, c)] for c in missing
        }
        owed = session.scalars(
            select(InboundMessage).where(
                InboundMessage.conversation_id.in_(ids), InboundMessage.status != "done"
            )
        ).all()
        assert not owed, [(m.conversation_id, m.bot_text, m.status) for m in owed]
    for conversation_id, lines in run.scripts.items():
        rows = history(stack, conversation_id)
        users = [r["text"] for r in rows if r["sender"] == "user"]
        assert users == lines, (conversation_id, users)  # each once, in order
        replies = Counter(
            (r["text"]) for r in rows if r["sender"] == "bot" and BOT_UNAVAILABLE not in r["text"]
        )
        twice = {text: count for text, count in replies.items() if count > 1}
        assert not twice, (conversation_id, twice)  # every line of this script differs


def check_wechat(run: Run, wx: WeChatSide) -> None:
    """What the followers' phones show: no customer-service message twice, none refused."""
    for conversation_id in run.scripts:
        if conversation_id.startswith("wx:"):
            texts = wx.api.texts(conversation_id.removeprefix("wx:"))
            twice = {t: c for t, c in Counter(texts).items() if c > 1}
            assert not twice, (conversation_id, twice)
    assert not wx.api.problems, wx.api.problems


@pytest.fixture(scope="module")
def proxies() -> Iterator[tuple[TcpProxy, TcpProxy]]:
    postgres, redis = TcpProxy(5432), TcpProxy(6379)
    try:
        yield postgres, redis
    finally:
        postgres.close()
        redis.close()


@pytest.fixture(scope="module")
def wechat_api() -> Iterator[tuple[FakeWeChat, str]]:
    """WeChat's API played by a local server (its real servers cannot be reached from here)."""
    wechat = FakeWeChat(app_id="wx" + secrets.token_hex(8), secret=secrets.token_hex(16))
    api = ServerThread(wechat_api_app(wechat)).start()
    try:
        yield wechat, api.url
    finally:
        api.stop()


@pytest.fixture(scope="module")
def stack(
    proxies: tuple[TcpProxy, TcpProxy],
    wechat_api: tuple[FakeWeChat, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """The stack on PostgreSQL (desk, transcripts, Rasa's tracker store) and Redis (Rasa's lock
    store, rate limits, the streams' fan-out), each through its proxy; the WeChat channel on."""
    postgres, redis = proxies
    wechat, api_url = wechat_api
    folder: Path = tmp_path_factory.mktemp("faults")
    redis_db = 9 + secrets.randbelow(7)  # the tests of others use db 0
    with postgres_database() as direct:
        through_proxy = direct.replace("127.0.0.1:5432", f"127.0.0.1:{postgres.port}")
        assert through_proxy != direct, direct
        settings = stack_settings(
            through_proxy, redis_url=f"redis://127.0.0.1:{redis.port}/{redis_db}"
        )
        stack = Stack(
            settings=settings,
            log_dir=folder / "logs",
            env={  # the children's environment
                "QCLINIC_TURN_SETTLE_S": str(SETTLE_S),
                "QCLINIC_WECHAT_TOKEN": WECHAT_TOKEN,
                "QCLINIC_WECHAT_APP_ID": wechat.app_id,
                "QCLINIC_WECHAT_APP_SECRET": wechat.secret,
                "QCLINIC_WECHAT_AES_KEY": WECHAT_AES_KEY,
                "QCLINIC_WECHAT_API_BASE": api_url,
            },
        )
        with running(stack) as started:
            yield started


@pytest.fixture(scope="module")
def wx(stack: Stack, wechat_api: tuple[FakeWeChat, str]) -> Iterator[WeChatSide]:
    wechat, _ = wechat_api
    platform = WeChatPlatform(
        stack.settings.desk_url, token=WECHAT_TOKEN, aes_key=WECHAT_AES_KEY, app_id=wechat.app_id
    )
    try:
        yield WeChatSide(platform, wechat)
    finally:
        platform.close()


def stop_part(stack: Stack, name: str, sig: signal.Signals = signal.SIGTERM) -> None:
    process = stack.processes[name]
    os.killpg(process.pid, sig)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


WARMED = "retrieval warmed up"  # retrieval/warmup.py: the action server's model and index loaded


def warmed_count(stack: Stack) -> int:
    return (stack.log_dir / "actions.log").read_text(errors="replace").count(WARMED)


def test_the_action_server_away_for_20_s(stack: Stack) -> None:
    """Back means warm again: a new action server answers /health at once, but loads the model
    and index in the background (tens of seconds on a busy machine) and turns that need them
    wait for it; a turn that outlasts the gateway's timeout is looked up after the settle time."""
    warm_before = warmed_count(stack)
    up: list[float] = []

    def start() -> None:  # as the supervisor would
        started = time.monotonic()
        stack.start_one("actions")
        stack.wait_ready(120)
        up.append(time.monotonic() - started)

    def warm() -> None:
        deadline = time.monotonic() + 180
        while warmed_count(stack) == warm_before and time.monotonic() < deadline:
            time.sleep(0.5)

    fault = outage(lambda: stop_part(stack, "actions"), start, after_s=2.0, for_s=20.0, ready=warm)
    run = asyncio.run(run_with_fault(stack, fault))
    print(
        f"\n[faults] the new action server answered /health {up[0]:.1f} s and was warm "
        f"{run.back - run.restarted + up[0]:.1f} s after its start"
    )
    check(stack, run, "action server away 20 s")


def test_the_rasa_server_killed(stack: Stack, wx: WeChatSide) -> None:
    """SIGKILL of the Rasa server in the middle of turns, started again 5 s later (as the
    supervisor would); it is back once it answers /status with its model loaded. Web chat and
    WeChat followers converse meanwhile: turns Rasa was on when it died are looked up in its
    tracker after the settle time, the others are sent again by the retry worker."""

    def start() -> None:
        stack.start_one("rasa")

    fault = outage(
        lambda: stop_part(stack, "rasa", signal.SIGKILL),
        start,
        after_s=3.0,
        for_s=5.0,
        ready=lambda: stack.wait_ready(240),
    )
    run = asyncio.run(run_with_fault(stack, fault, wx=wx))
    print(
        f"\n[faults] the new Rasa server was ready {run.back - run.restarted:.1f} s after its start"
    )
    check(stack, run, "Rasa server killed")
    check_wechat(run, wx)


def test_postgresql_restarting(stack: Stack, proxies: tuple[TcpProxy, TcpProxy]) -> None:
    postgres, _ = proxies
    fault = outage(postgres.down, postgres.up, after_s=3.0, for_s=6.0)
    run = asyncio.run(run_with_fault(stack, fault))
    check(stack, run, "PostgreSQL restarting 6 s")
    assert postgres.dropped > 0  # connections were open and were cut


def test_postgresql_away_for_25_s(
    stack: Stack, proxies: tuple[TcpProxy, TcpProxy], wx: WeChatSide
) -> None:
    """Longer than a transaction waits for the database (desk.db.AWAY_S) and than either
    channel's deadline: a message the database cannot take is spooled on the app's disk, the
    user is told it is kept, and it is accepted and answered once the database is back."""
    postgres, _ = proxies
    spooled = spool_count(stack)
    fault = outage(postgres.down, postgres.up, after_s=3.0, for_s=25.0)
    run = asyncio.run(run_with_fault(stack, fault, wx=wx))
    check(stack, run, "PostgreSQL away 25 s")
    check_wechat(run, wx)
    assert spool_count(stack) > spooled, "no message was spooled"


def spool_count(stack: Stack) -> int:
    return (stack.log_dir / "app.log").read_text(errors="replace").count(SPOOLED)


def test_redis_away_for_20_s(stack: Stack, proxies: tuple[TcpProxy, TcpProxy]) -> None:
    _, redis = proxies
    fault = outage(redis.down, redis.up, after_s=2.0, for_s=20.0)
    run = asyncio.run(run_with_fault(stack, fault))
    check(stack, run, "Redis away 20 s")
    health = httpx.get(f"{stack.settings.desk_url}/health", timeout=5).json()
    assert health["parts"]["redis"]["status"] == "ok", health  # recovered
