"""Start and stop the three processes of the assistant: Rasa server, action server, app.

Used by `make run` (python -m app.launch) and by the end-to-end tests, so both run the same way.
"""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from app.settings import AppSettings
from desk.paths import REPO_ROOT

RASA_PYTHON = REPO_ROOT / ".venv-rasa" / "bin" / "python"
TRACKER_STORE = "bot.server.tracker_store.CachedSQLTrackerStore"
RASA_MODEL = Path("var/rasa/models/qclinic.tar.gz")


def rasa_endpoints(settings: AppSettings) -> dict:  # type: ignore[type-arg]
    """Rasa's endpoints: our action server, and the tracker/lock stores from the settings.

    The tracker store is Rasa's SQL store that keeps the last saved tracker per conversation
    (bot/server/tracker_store.py), with the same keys as Rasa's own ``SQL`` type.
    """
    endpoints: dict = {  # type: ignore[type-arg]
        # The domain (about 90 KB of JSON) goes only to the actions that declare they need it
        # (``send_domain: true``: the forms' validations); bot/actions/server.py accepts the rest.
        "action_endpoint": {
            "url": f"http://127.0.0.1:{settings.actions_port}/webhook",
            "enable_selective_domain": True,
        },
    }
    url = settings.database_url or ""
    if url.startswith("sqlite"):
        desk_db = Path(url.split("///", 1)[-1])  # the tracker lives beside the desk database
        endpoints["tracker_store"] = {
            "type": TRACKER_STORE,
            "dialect": "sqlite",
            "db": str(desk_db.with_name("rasa_tracker.db")),
        }
    elif url.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        endpoints["tracker_store"] = {
            "type": TRACKER_STORE,
            "dialect": "postgresql",
            "url": parsed.host or "127.0.0.1",
            "port": parsed.port or 5432,
            "db": parsed.database,
            "username": parsed.username or "postgres",
            "password": parsed.password or "",
        }
    if settings.redis_url:
        from urllib.parse import urlparse

        redis = urlparse(settings.redis_url)
        endpoints["lock_store"] = {
            "type": "redis",
            "url": redis.hostname or "127.0.0.1",
            "port": redis.port or 6379,
            "db": int((redis.path or "/0").lstrip("/") or 0),
        }
    return endpoints


def child_env(settings: AppSettings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "QCLINIC_VAR_DIR": str(settings.var_dir),
            "QCLINIC_PORT": str(settings.port),
            "QCLINIC_RASA_PORT": str(settings.rasa_port),
            "QCLINIC_ACTIONS_PORT": str(settings.actions_port),
            "QCLINIC_RASA_TOKEN": settings.secret("rasa_token"),
            "QCLINIC_SERVICE_TOKEN": settings.secret("service_token"),
            "QCLINIC_DESK_URL": settings.desk_url,
            "QCLINIC_DATABASE_URL": settings.database_url or "",
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "TOKENIZERS_PARALLELISM": "false",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
            "SANIC_HOST": "127.0.0.1",  # the action server listens on loopback only
            "QCLINIC_WARM_UP": "1",  # load model and index at start, not on the first question
        }
    )
    if settings.redis_url:
        env["QCLINIC_REDIS_URL"] = settings.redis_url
    if settings.rasa_urls:  # several Rasa servers (docs/deploy.md)
        env["QCLINIC_RASA_URLS"] = settings.rasa_urls
    if settings.admin_password is not None:  # else the app generates one and prints it once
        env["QCLINIC_ADMIN_PASSWORD"] = settings.admin_password.get_secret_value()
    return env


@dataclass
class Stack:
    settings: AppSettings
    log_dir: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)  # type: ignore[type-arg]
    env: dict[str, str] = field(default_factory=dict)  # more for the children (replicas, tests)

    def commands(self) -> dict[str, list[str]]:
        s = self.settings
        endpoints = s.var_dir / "rasa" / f"endpoints-{s.rasa_port}.yml"
        endpoints.parent.mkdir(parents=True, exist_ok=True)
        endpoints.write_text(yaml.safe_dump(rasa_endpoints(s)), encoding="utf-8")
        return {
            "rasa": [  # Rasa's command line after the project's start-up patches (bot/server)
                str(RASA_PYTHON),
                "-m",
                "bot.server",
                "run",
                "--enable-api",
                "--auth-token",
                s.secret("rasa_token"),
                "-i",
                "127.0.0.1",
                "-p",
                str(s.rasa_port),
                "--model",
                str(RASA_MODEL),
                "--endpoints",
                str(endpoints),
                "--credentials",
                "bot/credentials.yml",
            ],
            "actions": [  # rasa_sdk's app in one process, logs masked (bot/actions/server.py)
                sys.executable,
                "-m",
                "bot.actions.server",
                "-p",
                str(s.actions_port),
            ],
            "app": [
                sys.executable,
                "-m",
                "uvicorn",
                "app.asgi:app",
                "--host",
                s.host,
                "--port",
                str(s.port),
                "--no-access-log",
            ],
        }

    def start(self) -> None:
        for name in self.commands():
            self.start_one(name)

    def start_one(self, name: str) -> subprocess.Popen:  # type: ignore[type-arg]
        """Start one part (again, after a crash: app.supervisor); its log is appended to."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        command = self.commands()[name]
        env = child_env(self.settings)
        if name == "actions":  # one e5 model in memory: the action server asks the app for vectors
            env["QCLINIC_EMBEDDING_URL"] = f"{self.settings.desk_url}/api/embeddings"
        with open(self.log_dir / f"{name}.log", "ab") as log:  # the child keeps its own copy
            process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env={**env, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def ready_checks(self) -> dict[str, str]:
        s = self.settings
        return {
            "app": f"{s.desk_url}/health",
            "actions": f"http://127.0.0.1:{s.actions_port}/health",
            "rasa": f"{s.rasa_url}/status?token={s.secret('rasa_token')}",
        }

    def wait_ready(self, timeout_s: float = 180.0) -> None:
        deadline = time.monotonic() + timeout_s
        pending = self.ready_checks()
        if self.processes:  # only the parts this stack started (a replica runs one or two)
            pending = {name: url for name, url in pending.items() if name in self.processes}
        while pending:
            for name, url in list(pending.items()):
                process = self.processes.get(name)
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"{name} exited ({process.returncode}); see {self.log_dir}")
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout_s:.0f}s: {sorted(pending)}")
            time.sleep(0.5)

    def warm(self) -> float:
        """One throwaway conversation through Rasa and the actions (app.warm_path); seconds."""
        from app.warm_path import walk

        try:
            return walk(self.settings.rasa_url)
        except httpx.HTTPError as exc:  # a slower first user, not a failed start
            print(f"预热对话未完成：{exc}", file=sys.stderr, flush=True)
            return 0.0

    def stop(self, timeout_s: float = 15.0) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()
