"""How long Rasa takes to load the trained model: DIET's stock load against our quick load.

    .venv-rasa/bin/python bench/rasa_load_bench.py [--rounds 3] [--model path/to/model.tar.gz]

Each round loads the model in a fresh process, once the stock way (DIETClassifier's own load,
which traces a training step) and once with bot/nlu/quick_load_diet.py, alternating so that
both see the same machine. Both then parse the held-out NLU split (bench/data/nlu_test); the
table gives the median load seconds and whether every intent, confidence and entity agrees.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"
MODEL = REPO / "var" / "rasa" / "models" / "qclinic.tar.gz"


def load_once(mode: str, model: Path) -> dict[str, object]:
    """Load in this process (`mode` stock or quick) and parse the test split."""
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "bench"))
    os.chdir(REPO)
    from nlu_report import TEST_DATA, load_examples
    from rasa.core.agent import Agent
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier

    from bot.nlu.quick_load_diet import QuickLoadDIETClassifier

    if mode == "stock":
        QuickLoadDIETClassifier._load_model_class = classmethod(  # type: ignore[method-assign]
            DIETClassifier._load_model_class.__func__
        )  # type: ignore[attr-defined]
    started = time.perf_counter()
    agent = Agent.load(str(model))
    load_s = time.perf_counter() - started

    async def parse_all() -> list[object]:
        parsed = []
        for example in load_examples(TEST_DATA):
            result = await agent.parse_message(example.text)
            parsed.append(
                [
                    result["intent"]["name"],
                    round(result["intent"]["confidence"], 5),
                    sorted((e["entity"], e["start"], e["end"]) for e in result["entities"]),
                ]
            )
        return parsed

    started = time.perf_counter()
    parsed = asyncio.run(parse_all())
    return {
        "load_s": load_s,
        "parse_ms": 1000 * (time.perf_counter() - started) / len(parsed),
        "parsed": parsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--child", choices=["stock", "quick"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import logging

        logging.disable(logging.WARNING)
        print(json.dumps(load_once(args.child, args.model.resolve())))
        return
    env = dict(
        os.environ, TF_CPP_MIN_LOG_LEVEL="3", RASA_TELEMETRY_ENABLED="false", LOG_LEVEL="ERROR"
    )
    runs: dict[str, list[dict[str, object]]] = {"stock": [], "quick": []}
    for _ in range(args.rounds):
        for mode in ("stock", "quick"):
            out = subprocess.run(
                [str(RASA_PYTHON), __file__, "--child", mode, "--model", str(args.model)],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            ).stdout
            runs[mode].append(json.loads(out.strip().splitlines()[-1]))
    same = all(r["parsed"] == runs["stock"][0]["parsed"] for r in runs["stock"] + runs["quick"])
    count = len(runs["stock"][0]["parsed"])  # type: ignore[arg-type]
    stock_s = statistics.median(float(r["load_s"]) for r in runs["stock"])  # type: ignore[arg-type]
    quick_s = statistics.median(float(r["load_s"]) for r in runs["quick"])  # type: ignore[arg-type]
    print(f"model load, {args.rounds} rounds, fresh process each; {count} test messages parsed\n")
    print("| load | median s | all loads s | parse ms/msg (median) |")
    print("|---|---|---|---|")
    for mode, median in (("stock DIET", stock_s), ("quick load", quick_s)):
        rows = runs[mode.split()[0]]
        loads = ", ".join(f"{float(r['load_s']):.1f}" for r in rows)  # type: ignore[arg-type]
        parse = statistics.median(float(r["parse_ms"]) for r in rows)  # type: ignore[arg-type]
        print(f"| {mode} | {median:.1f} | {loads} | {parse:.1f} |")
    print(
        f"\nratio stock/quick: {stock_s / quick_s:.1f}x; identical predictions "
        f"(intent, confidence to 5 places, entity spans): {'yes' if same else 'NO'}"
    )


if __name__ == "__main__":
    main()
