"""The dashboard's load time with a year of generated desk data, on SQLite and PostgreSQL.

    .venv/bin/python bench/dashboard_bench.py [--demands 20000] [--runs 5] [--no-browser]

One year (2025) of seeded data in proportion to 20,000 demands: 5 % complaints, 40 %
evaluated, 10 % escalated, 15 % with an unanswered question (300 distinct wordings), and an
improvement item per dissatisfied evaluation. For each database it serves the desk's API with
the built console (uvicorn on a free port) and prints the median of several runs of: the report
computed in-process, ``GET /api/reports/dashboard`` for the whole year over HTTP, the whole
workbook export, the annual summary, and the page in Chromium from navigation until the figures
and all six charts are drawn (a fresh page each run, the login already in localStorage).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from app.database import migrate  # noqa: E402
from app.main import create_desk_app  # noqa: E402
from app.settings import AppSettings  # noqa: E402
from desk.clock import CHINA  # noqa: E402
from desk.complaints.models import Complaint  # noqa: E402
from desk.db import get_engine, get_sessionmaker  # noqa: E402
from desk.demands.models import Demand, Evaluation  # noqa: E402
from desk.escalations.models import Escalation  # noqa: E402
from desk.improvements.models import ImprovementItem  # noqa: E402
from desk.reports.dashboard import dashboard  # noqa: E402
from desk.reports.models import UnansweredQuery  # noqa: E402
from desk.reports.period import Period  # noqa: E402
from desk.reports.unanswered import normalise  # noqa: E402
from desk.sla import add_working_days  # noqa: E402
from knowledge.constants import REGIONS  # noqa: E402
from tests.support import free_port  # noqa: E402

ADMIN = os.environ.get("QCLINIC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
YEAR = 2025
PERIOD = {"from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31"}
SERVICES = ["6.1.1", "6.1.2", "6.2.1", "6.3.2", "6.4.1", "6.4.2", "6.5.1", "6.6.2", "6.7.3"]
INSTITUTIONS = ["inst-chengheng-metrology", "inst-xizhun-calibration", "inst-qinghe-food", None]
PASSWORD = "bench-admin-" + secrets.token_hex(4)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, dtime(hour, minute), tzinfo=CHINA).astimezone(UTC)


def generate(url: str, demands: int, seed: int = 8113) -> dict[str, int]:
    """Bulk-insert a year of desk data; returns the row counts."""
    rng = random.Random(seed)
    days = [date(YEAR, 1, 1) + timedelta(days=i) for i in range(365)]
    places = [*REGIONS, "江阴周庄", "新吴区", "上海浦东", ""]
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in ("d", "e", "c", "x", "u", "i")}
    for n in range(1, demands + 1):
        day = rng.choice(days)
        respond_due, recommend_due = add_working_days(day, 1), add_working_days(day, 3)
        late = rng.choice([0, 0, 1, 1, 1, 2, 3])
        responded = day + timedelta(days=late) if rng.random() < 0.9 else None
        recommended = (
            responded + timedelta(days=rng.choice([0, 1, 2, 2, 3, 5]))
            if responded and rng.random() < 0.85
            else None
        )
        evaluated = recommended is not None and rng.random() < 0.47
        rows["d"].append(
            {
                "id": n,
                "number": f"XQ{day:%Y%m%d}-{n:05d}",
                "conversation_id": f"web:bench-{n}",
                "channel": rng.choice(["web", "wechat"]),
                "status": "evaluated"
                if evaluated
                else ("recommended" if recommended else "submitted"),
                "need_text": "检测需求",
                "product": "产品",
                "place": rng.choice(places),
                "contact_name": "张伟",
                "contact_mobile": "13912345678",
                "service_ids": rng.sample(SERVICES, rng.choice([0, 1, 1, 1, 2])),
                "institution_ids": [],
                "recommended_by": "bot",
                "chosen_institution_id": rng.choice(INSTITUTIONS) if recommended else None,
                "respond_due": respond_due,
                "recommend_due": recommend_due,
                "responded_at": at(responded, 15) if responded else None,
                "recommended_at": at(recommended, 16) if recommended else None,
                "created_at": at(day, rng.randint(8, 20)),
            }
        )
        if evaluated and recommended:
            scores = [rng.choices([1, 2, 3, 4, 5], [2, 3, 10, 35, 50])[0] for _ in range(4)]
            given = recommended + timedelta(days=rng.randint(3, 20))
            rows["e"].append(
                {
                    "demand_id": n,
                    "process_score": scores[0],
                    "efficiency_score": scores[1],
                    "attitude_score": scores[2],
                    "overall_score": scores[3],
                    "comment": "",
                    "created_at": at(min(given, date(YEAR, 12, 31)), 11),
                }
            )
            if min(scores) <= 2:
                opened = given
                status = rng.choice(["open", "in_progress", "rechecked", "closed", "closed"])
                rows["i"].append(
                    {
                        "number": f"GJ{opened:%Y%m%d}-{n:05d}",
                        "source": "evaluation",
                        "source_key": f"evaluation:{n}",
                        "source_number": f"XQ{day:%Y%m%d}-{n:05d}",
                        "problem": "评价不满意",
                        "cause": "原因",
                        "action": "措施",
                        "status": status,
                        "recheck_note": "",
                        "evidence": "证据" if status == "closed" else "",
                        "due_on": add_working_days(min(opened, date(YEAR, 12, 31)), 10),
                        "opened_on": min(opened, date(YEAR, 12, 31)),
                        "closed_at": at(min(opened + timedelta(days=9), date(YEAR, 12, 31)), 12)
                        if status == "closed"
                        else None,
                    }
                )
    for n in range(1, demands // 20 + 1):
        day = rng.choice(days)
        resolved = day + timedelta(days=rng.randint(2, 14)) if rng.random() < 0.9 else None
        rows["c"].append(
            {
                "number": f"TS{day:%Y%m%d}-{n:05d}",
                "channel": "phone",
                "institution_name": "某机构",
                "institution_id": rng.choice(INSTITUTIONS),
                "complaint_type": "fees",
                "content": "收费问题",
                "demand": "",
                "status": "resolved" if resolved else "investigating",
                "received_on": day,
                "investigation_due": add_working_days(day, 7),
                "resolved_at": at(resolved, 17) if resolved else None,
                "created_at": at(day, 10),
            }
        )
    for n in range(1, demands // 10 + 1):
        opened = at(rng.choice(days), rng.randint(9, 16), rng.randint(0, 59))
        claimed = rng.random() < 0.8
        rows["x"].append(
            {
                "conversation_id": f"web:bench-x{n}",
                "channel": "web",
                "reason": rng.choice(["requested", "requested", "fallback"]),
                "summary": "",
                "status": "closed",
                "domain": rng.choice(["metrology", "testing", None]),
                "created_at": opened,
                "claimed_at": opened + timedelta(minutes=rng.expovariate(1 / 6))
                if claimed
                else None,
            }
        )
    wordings = [f"第{k}类问题怎么办理" for k in range(300)]
    for n in range(1, demands * 15 // 100 + 1):
        text = rng.choice(wordings)
        rows["u"].append(
            {
                "conversation_id": f"web:bench-u{n}",
                "message_id": f"m{n}",
                "channel": "web",
                "kind": rng.choice(["fallback", "faq_miss"]),
                "text": text,
                "normalised": normalise(text),
                "created_at": at(rng.choice(days), 14),
            }
        )
    engine = get_engine(url)
    tables = {
        "d": Demand.__table__,
        "e": Evaluation.__table__,
        "c": Complaint.__table__,
        "x": Escalation.__table__,
        "u": UnansweredQuery.__table__,
        "i": ImprovementItem.__table__,
    }
    with engine.begin() as conn:
        for key, table in tables.items():
            for start in range(0, len(rows[key]), 2000):
                conn.execute(insert(table), rows[key][start : start + 2000])
    names = {"d": "demands", "e": "evaluations", "c": "complaints", "x": "escalations",
             "u": "unanswered", "i": "improvements"}  # fmt: skip
    return {names[k]: len(v) for k, v in rows.items()}


def median_ms(fn: Callable[[], Any], runs: int) -> float:
    fn()  # warm-up: imports, caches, the knowledge base
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


class Server:
    """The desk's API and the built console on a free port, in this process."""

    def __init__(self, url: str, var: Path) -> None:
        import uvicorn

        self.port = free_port()
        settings = AppSettings(
            var_dir=var,
            database_url=url,
            port=self.port,
            service_token=SecretStr("bench-service-" + secrets.token_hex(8)),
            rasa_token=SecretStr("bench-rasa-" + secrets.token_hex(8)),
            admin_password=SecretStr(PASSWORD),
            warm_up=False,
        )
        config = uvicorn.Config(
            create_desk_app(settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the bench server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def login(base: str) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/api/auth/login", json={"username": "admin", "password": PASSWORD}, timeout=10
    )
    response.raise_for_status()
    return dict(response.json())


def page_ms(base: str, token: dict[str, Any], runs: int) -> float:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        context.add_init_script(
            f"localStorage.setItem('qclinic.console.token', {token['token']!r});"
            f"localStorage.setItem('qclinic.console.expires_at', {token['expires_at']!r});"
        )
        url = f"{base}/console/dashboard?from={PERIOD['from']}&to={PERIOD['to']}"
        for i in range(runs + 1):
            page = context.new_page()
            started = time.perf_counter()
            page.goto(url)
            page.wait_for_function(
                "document.querySelectorAll(\"[role=img][aria-label$='图'] canvas\").length === 6"
                " && !!document.querySelector('.kpi .v')",
                timeout=60_000,
            )
            page.wait_for_load_state("networkidle")
            if i:  # the first run fills the browser's cache of the console's files
                times.append((time.perf_counter() - started) * 1000)
            page.close()
        browser.close()
    return statistics.median(times)


def measure(name: str, url: str, args: argparse.Namespace, var: Path) -> dict[str, Any]:
    migrate(url)
    started = time.perf_counter()
    counts = generate(url, args.demands)
    fill_s = time.perf_counter() - started
    sessions = get_sessionmaker(url)
    period = Period(date(YEAR, 1, 1), date(YEAR, 12, 31))

    def in_process() -> None:
        with sessions() as session:
            dashboard(session, period=period, today=date(YEAR + 1, 1, 15))

    result: dict[str, Any] = {"db": name, "fill_s": fill_s, **counts}
    result["service_ms"] = median_ms(in_process, args.runs)
    with Server(url, var) as server:
        token = login(server.base)
        headers = {"Authorization": f"Bearer {token['token']}"}
        with httpx.Client(base_url=server.base, headers=headers, timeout=120) as client:

            def get(path: str, **params: str) -> httpx.Response:
                response = client.get(path, params=params)
                response.raise_for_status()
                return response

            result["api_ms"] = median_ms(lambda: get("/api/reports/dashboard", **PERIOD), args.runs)
            result["api_kb"] = len(get("/api/reports/dashboard", **PERIOD).content) / 1024
            result["xlsx_ms"] = median_ms(lambda: get("/api/reports/export/all", **PERIOD), 3)
            result["annual_ms"] = median_ms(lambda: get(f"/api/reports/annual/{YEAR}"), 3)
            result["public_ms"] = median_ms(
                lambda: get("/api/public/evaluation-results", year=str(YEAR)), 3
            )
        result["page_ms"] = page_ms(server.base, token, args.runs) if args.browser else None
    get_engine(url).dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demands", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-browser", dest="browser", action="store_false")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    import psycopg

    results = []
    with tempfile.TemporaryDirectory(prefix="qclinic-dash-bench-") as tmp:
        folder = Path(tmp)
        if args.only != "postgresql":
            results.append(measure("SQLite", f"sqlite:///{folder / 'bench.db'}", args, folder))
        if args.only != "sqlite":
            name = f"qclinic_dash_{secrets.token_hex(4)}"
            with psycopg.connect(ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            try:
                url = f"{ADMIN.rsplit('/', 1)[0]}/{name}"
                results.append(measure("PostgreSQL", url, args, folder))
            finally:
                with psycopg.connect(ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    first = results[0]
    print(
        f"\nA year ({YEAR}) of data: {first['demands']} demands, {first['complaints']} complaints, "
        f"{first['evaluations']} evaluations, {first['escalations']} escalations, "
        f"{first['unanswered']} unanswered questions, {first['improvements']} improvement items; "
        f"median of {args.runs} runs (3 for exports, annual and public)\n"
    )
    header = ("database", "report in-process", "GET dashboard", "JSON", "XLSX all tables",
              "annual summary", "public results", "page (API + charts)")  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in results:
        page = f"{r['page_ms']:.0f} ms" if r["page_ms"] is not None else "—"
        print(
            f"| {r['db']} | {r['service_ms']:.0f} ms | {r['api_ms']:.0f} ms | {r['api_kb']:.0f} KB "
            f"| {r['xlsx_ms']:.0f} ms | {r['annual_ms']:.0f} ms | {r['public_ms']:.0f} ms "
            f"| {page} |"
        )


if __name__ == "__main__":
    main()
