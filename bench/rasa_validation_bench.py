"""CPU per action-server response in Rasa's validation: Rasa 3.6's own against bot/server's patch.

    .venv-rasa/bin/python bench/rasa_validation_bench.py [--rounds 7] [--calls 200]

Rounds alternate the ways in one process on the same responses (a form turn's slots, active
loop and text with buttons): Rasa's own, the validator built once checking every event against
all 23 alternatives (the patch before), and the patch (one alternative per event, the full
validator only for a response that fails that); the table gives the median milliseconds per
response of each and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RESPONSE: dict[str, Any] = {
    "events": [
        {"event": "slot", "name": "product", "value": "电线电缆", "timestamp": None},
        {"event": "slot", "name": "requested_slot", "value": "place"},
        {"event": "active_loop", "name": "need_form"},
    ],
    "responses": [{"text": "请问在哪里？", "buttons": [{"title": "周庄镇", "payload": "/inform"}]}],
}


def per_call_ms(validate: Any, calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        validate(RESPONSE)
    return (time.process_time() - started) / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()

    from rasa.core.actions.action import RemoteAction

    action = RemoteAction("action_bench", None)
    stock = RemoteAction._validate_action_result
    from bot.server import patches

    patches.apply()
    patched = RemoteAction._validate_action_result
    once = patches._response_validator()
    ways = {
        "Rasa 3.6 (jsonschema.validate)": lambda r: stock(action, r),
        "validator built once, all alternatives": once.validate,
        "patched (one alternative per event)": lambda r: patched(action, r),
    }
    timings: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, way in ways.items():
            timings[name].append(per_call_ms(way, args.calls))
    medians = {name: statistics.median(values) for name, values in timings.items()}
    base = medians["Rasa 3.6 (jsonschema.validate)"]
    print(f"{args.rounds} rounds × {args.calls} responses, CPU ms per response\n")
    print("| validation | median ms | ratio |")
    print("|---|---|---|")
    for name, value in medians.items():
        print(f"| {name} | {value:.2f} | {base / value:.1f}× |")


if __name__ == "__main__":
    main()
