"""WeChat reply times: the passive path (answer inside the callback) and the async path
('success' at the deadline, then a customer-service message).

    .venv/bin/python bench/wechat_reply_bench.py            # Rasa timing double, SQLite
    .venv/bin/python bench/wechat_reply_bench.py --real     # the real Rasa + action server

Callbacks are real safe-mode (AES) requests made with wechatpy's crypto, answered by the app on
a loopback port; WeChat's API is played by the local stand-in of the tests. With the double,
``--turn-ms`` sets the bot's think time of the passive runs; the async run uses a turn longer
than WeChat's 5 seconds. ``--real`` starts Rasa and the action server (about 2 minutes) and sends
short messages a follower would send (greeting, FAQ, need), then ``--burst`` new followers'
first messages (a greeting, then a need) all at one moment; the async path of a single slow
turn needs a slow bot and is measured with the double only.
"""

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402

from app.main import create_app  # noqa: E402
from app.settings import AppSettings  # noqa: E402
from tests.channels.conftest import new_aes_key  # noqa: E402
from tests.channels.servers import (  # noqa: E402
    FakeRasa,
    FakeWeChat,
    ServerThread,
    fake_rasa_app,
    wait_until,
    wechat_api_app,
)
from tests.channels.wechat_calls import WeChatPlatform, text_xml  # noqa: E402
from tests.support import free_port  # noqa: E402

REAL_MESSAGES = ["你好", "资质认定需要准备哪些材料？", "我们有一批电线电缆需要做检测", "谢谢"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(name: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"{name:34} n={len(ms):4d}  p50={percentile(ms, 0.5):8.1f} ms  "
        f"p95={percentile(ms, 0.95):8.1f} ms  max={max(ms):8.1f} ms  "
        f"mean={statistics.fmean(ms):8.1f} ms"
    )


class Bench:
    def __init__(
        self,
        folder: Path,
        *,
        rasa_port: int,
        actions_port: int,
        rasa_token: str | None = None,
        database_url: str | None = None,
    ) -> None:
        self.wechat = FakeWeChat(app_id="wx" + secrets.token_hex(8), secret=secrets.token_hex(16))
        self.api = ServerThread(wechat_api_app(self.wechat)).start()
        token, aes_key = "tk" + secrets.token_hex(8), new_aes_key()
        settings = AppSettings(
            var_dir=folder / "var",
            database_url=database_url or f"sqlite:///{folder / 'b.db'}",
            service_token=SecretStr("bench-service-" + secrets.token_hex(8)),
            rasa_token=SecretStr(rasa_token or "bench-rasa-" + secrets.token_hex(8)),
            admin_password=SecretStr("bench-admin-pass"),
            rasa_port=rasa_port,
            rate_limit_per_conversation=0,  # one follower sends the whole series at once
            rate_limit_per_address=0,
            actions_port=actions_port,
            rasa_timeout_s=20,
            retry_interval_s=0.5,
            wechat_token=SecretStr(token),
            wechat_app_id=self.wechat.app_id,
            wechat_app_secret=SecretStr(self.wechat.secret),
            wechat_aes_key=SecretStr(aes_key),
            wechat_api_base=self.api.url,
        )
        self.app = ServerThread(create_app(settings)).start()
        self.platform = WeChatPlatform(
            self.app.url, token=token, aes_key=aes_key, app_id=self.wechat.app_id
        )

    def callback(self, openid: str, text: str) -> tuple[float, dict[str, Any] | None]:
        started = time.perf_counter()
        response = self.platform.post(text_xml(openid, text))
        elapsed = time.perf_counter() - started
        return elapsed, self.platform.reply(response)

    def passive(
        self, messages: list[str], *, users: int, per_user: int, workers: int
    ) -> tuple[list[float], int]:
        def conversation(n: int) -> list[tuple[float, bool]]:
            openid = f"oBENCH{n:04d}" + secrets.token_hex(4)
            out = []
            for i in range(per_user):
                elapsed, reply = self.callback(openid, messages[i % len(messages)])
                out.append((elapsed, reply is not None))
            return out

        with ThreadPoolExecutor(workers) as pool:
            results = [r for rs in pool.map(conversation, range(users)) for r in rs]
        return [e for e, _ in results], sum(1 for _, passive in results if not passive)

    def burst(self, text: str, followers: int) -> tuple[list[float], list[float], int]:
        """``followers`` new followers whose first message arrives at the same moment: each
        callback's answer time, and for those answered 'success' the time until their
        customer-service message arrived (from the burst's start)."""
        import threading

        gate = threading.Barrier(followers)
        openids = [f"oBURST{n:03d}" + secrets.token_hex(4) for n in range(followers)]

        def one(openid: str) -> tuple[float, bool]:
            gate.wait()
            elapsed, reply = self.callback(openid, text)
            return elapsed, reply is not None

        started = time.perf_counter()
        with ThreadPoolExecutor(followers) as pool:
            answers = list(pool.map(one, openids))
        late = [o for o, (_, passive) in zip(openids, answers, strict=True) if not passive]
        delivered = []
        for openid in late:
            wait_until(lambda o=openid: self.wechat.texts(o), timeout=60, step=0.01)
            delivered.append(time.perf_counter() - started)
        return [e for e, _ in answers], delivered, len(late)

    def asynchronous(self, runs: int) -> tuple[list[float], list[float]]:
        answered, delivered = [], []
        for n in range(runs):
            openid = f"oSLOW{n:03d}" + secrets.token_hex(4)
            started = time.perf_counter()
            elapsed, reply = self.callback(openid, "慢一点的问题")
            assert reply is None, "expected 'success' from the async path"
            answered.append(elapsed)
            wait_until(lambda o=openid: self.wechat.texts(o), timeout=30, step=0.01)
            delivered.append(time.perf_counter() - started)
        return answered, delivered

    def close(self) -> None:
        self.platform.close()
        self.app.stop()
        self.api.stop()


def run_double(args: argparse.Namespace, folder: Path) -> None:
    rasa = FakeRasa(delay_s=args.turn_ms / 1000)
    port = free_port()
    rasa_server = ServerThread(fake_rasa_app(rasa), port=port).start()
    bench = Bench(folder, rasa_port=port, actions_port=port)
    try:
        bench.passive(["预热"], users=2, per_user=2, workers=2)
        seconds, late = bench.passive(["你好"], users=1, per_user=args.n, workers=1)
        print(summary(f"passive, 1 user, bot {args.turn_ms} ms", seconds), f"async={late}")
        seconds, late = bench.passive(
            ["你好", "检测", "校准"], users=args.users, per_user=args.per_user, workers=args.workers
        )
        print(
            summary(f"passive, {args.users} users x{args.workers} parallel", seconds),
            f"async={late}",
        )
        rasa.delay_s = args.slow_s
        answered, delivered = bench.asynchronous(args.async_runs)
        print(summary(f"async: 'success' (bot {args.slow_s:.1f} s)", answered))
        print(summary("async: 客服消息 delivered", delivered))
        print(
            f"  delivery after the bot's turn: "
            f"p50={1000 * (percentile(delivered, 0.5) - args.slow_s):.1f} ms"
        )
    finally:
        bench.close()
        rasa_server.stop()


def run_real(args: argparse.Namespace, folder: Path) -> None:
    from app.stack import Stack

    settings = AppSettings(
        database_url=f"sqlite:///{folder / 'desk.db'}",
        port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        service_token=SecretStr("bench-service-" + secrets.token_hex(8)),
        rasa_token=SecretStr("bench-rasa-" + secrets.token_hex(8)),
    )
    os.environ["QCLINIC_RATE_LIMIT_PER_CONVERSATION"] = "0"  # the bench's series is no person
    stack = Stack(settings=settings, log_dir=folder / "logs")
    print("starting Rasa, the action server and the app (about 2 minutes) …", flush=True)
    stack.start()
    try:
        stack.wait_ready(timeout_s=300)
        bench = Bench(
            folder,
            rasa_port=settings.rasa_port,
            actions_port=settings.actions_port,
            rasa_token=settings.secret("rasa_token"),
            database_url=settings.database_url,
        )
        try:
            bench.passive(REAL_MESSAGES, users=2, per_user=4, workers=2)  # warm
            for message in REAL_MESSAGES:
                seconds, late = bench.passive([message], users=args.n, per_user=1, workers=1)
                print(summary(f"real bot: {message[:14]}", seconds), f"async={late}")
            seconds, late = bench.passive(
                REAL_MESSAGES, users=args.users, per_user=len(REAL_MESSAGES), workers=args.workers
            )
            print(
                summary(f"real bot, {args.users} users x{args.workers} parallel", seconds),
                f"async={late}",
            )
            for text in (REAL_MESSAGES[0], REAL_MESSAGES[2]):
                seconds, delivered, late = bench.burst(text, args.burst)
                print(summary(f"burst of {args.burst}: {text[:14]}", seconds), f"async={late}")
                if delivered:
                    print(summary("  客服消息 of the async ones", delivered))
        finally:
            bench.close()
    finally:
        stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", action="store_true", help="the real Rasa and action server")
    parser.add_argument("--n", type=int, default=50, help="sequential callbacks")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--per-user", type=int, default=5)
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--turn-ms", type=float, default=50.0, help="the double's think time")
    parser.add_argument("--slow-s", type=float, default=6.0, help="a turn past the deadline")
    parser.add_argument("--async-runs", type=int, default=5)
    parser.add_argument("--burst", type=int, default=50, help="first messages at one moment")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wechat-bench-") as tmp:
        (run_real if args.real else run_double)(args, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
