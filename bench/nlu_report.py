"""NLU accuracy on the held-out split: our pipeline and Rasa's plain default, same data and run.

    .venv-rasa/bin/python bench/nlu_report.py            # or any Python: it re-runs itself there
    .venv-rasa/bin/python bench/nlu_report.py --json var/bench/nlu_report.json

Both pipelines are trained on the NLU data of ``bot/data`` (never on ``bench/data/nlu_test``, and
the script refuses to run when a test example also appears in the training data), then parse
every test example. Printed per pipeline: intent accuracy (a fallback counts as wrong), macro-F1,
the out_of_scope recall, the fallback rate, entity precision/recall/F1 (exact span and type),
training time, and the confusion matrix of ours. Targets (issue 5): accuracy ≥ 0.95 and
out_of_scope recall ≥ 0.90.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"
TRAIN_DATA = REPO / "bot" / "data"
DOMAIN = REPO / "bot" / "domain"
OUR_CONFIG = REPO / "bot" / "config.yml"
TEST_DATA = REPO / "bench" / "data" / "nlu_test"
TARGET_ACCURACY, TARGET_OOS_RECALL = 0.95, 0.90
FALLBACK = "nlu_fallback"


def _ensure_rasa() -> None:
    """Re-run under the Rasa environment when started from another Python."""
    try:
        import rasa  # noqa: F401
    except ImportError:
        if not RASA_PYTHON.exists():
            sys.exit(f"{RASA_PYTHON} is missing: run `make setup` to create .venv-rasa")
        os.execv(str(RASA_PYTHON), [str(RASA_PYTHON), *sys.argv])


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: frozenset[tuple[str, int, int]]  # (entity, start, end)


@dataclass
class Result:
    name: str
    train_s: float
    gold: list[str] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list)
    before_fallback: list[str] = field(default_factory=list)
    entity_counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    entity_errors: list[tuple[str, list[str], list[str]]] = field(default_factory=list)


def load_examples(folder: Path) -> list[Example]:
    """The intent examples of the YAML files in ``folder`` (sorted, so the order is stable)."""
    from rasa.shared.nlu.training_data.loading import load_data

    examples = []
    for path in sorted(folder.glob("*.yml")):
        examples += [
            Example(
                text=m.get("text"),
                intent=m.get("intent"),
                entities=frozenset(
                    (e["entity"], e["start"], e["end"]) for e in m.get("entities", [])
                ),
            )
            for m in load_data(str(path)).intent_examples
        ]
    return examples


def default_config(folder: Path) -> Path:
    """Rasa's own default pipeline, untouched (its file says language: en, since its
    WhitespaceTokenizer refuses zh)."""
    import rasa.engine.recipes.default_recipe
    import yaml

    recipes = Path(rasa.__file__).parent / "engine" / "recipes"
    source = recipes / "config_files" / "default_config.yml"
    config = yaml.safe_load(source.read_text(encoding="utf-8"))
    config.pop("policies", None)  # NLU only
    target = folder / "default_config.yml"
    target.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return target


def train(config: Path, output: Path, name: str) -> tuple[Path, float]:
    from rasa.model_training import train_nlu

    started = time.perf_counter()
    model = train_nlu(
        config=str(config),
        nlu_data=str(TRAIN_DATA),
        output=str(output),
        fixed_model_name=name,
        domain=str(DOMAIN),
    )
    if model is None:
        sys.exit(f"training {name} failed")
    return Path(model), time.perf_counter() - started


def evaluate(name: str, model: Path, train_s: float, examples: list[Example]) -> Result:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    result = Result(name=name, train_s=train_s)

    async def parse_all() -> list[dict[str, Any]]:
        return [await agent.parse_message(e.text) for e in examples]

    for example, parsed in zip(examples, asyncio.run(parse_all()), strict=True):
        top = parsed["intent"]["name"]
        ranking = [r["name"] for r in parsed.get("intent_ranking", []) if r["name"] != FALLBACK]
        result.gold.append(example.intent)
        result.predicted.append(top)
        result.before_fallback.append(ranking[0] if ranking else top)
        found = {
            (e["entity"], e["start"], e["end"])
            for e in parsed.get("entities", [])
            if e.get("extractor") != "RegexEntityExtractor"
        }
        if found != set(example.entities):
            result.entity_errors.append(
                (
                    example.text,
                    sorted(f"{k}:{example.text[a:b]}" for k, a, b in example.entities),
                    sorted(f"{k}:{example.text[a:b]}" for k, a, b in found),
                )
            )
        for kind in {k for k, _, _ in found | example.entities}:
            gold = {e for e in example.entities if e[0] == kind}
            pred = {e for e in found if e[0] == kind}
            result.entity_counts[kind]["tp"] += len(gold & pred)
            result.entity_counts[kind]["fp"] += len(pred - gold)
            result.entity_counts[kind]["fn"] += len(gold - pred)
    return result


def prf(counts: Counter[str]) -> tuple[float, float, float]:
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def summary(result: Result) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(result.gold))
    oos = [p for g, p in zip(result.gold, result.predicted, strict=True) if g == "out_of_scope"]
    total: Counter[str] = Counter()
    for counts in result.entity_counts.values():
        total.update(counts)
    return {
        "pipeline": result.name,
        "train_seconds": round(result.train_s, 1),
        "examples": len(result.gold),
        "intent_accuracy": accuracy_score(result.gold, result.predicted),
        "intent_accuracy_before_fallback": accuracy_score(result.gold, result.before_fallback),
        "macro_f1": f1_score(
            result.gold, result.predicted, labels=labels, average="macro", zero_division=0
        ),
        "out_of_scope_recall": oos.count("out_of_scope") / len(oos) if oos else 0.0,
        "fallback_rate": result.predicted.count(FALLBACK) / len(result.predicted),
        "entities": {
            kind: dict(zip(("precision", "recall", "f1"), prf(c), strict=True))
            | {"support": c["tp"] + c["fn"]}
            for kind, c in sorted(result.entity_counts.items())
        },
        "entity_micro": dict(zip(("precision", "recall", "f1"), prf(total), strict=True)),
    }


def per_intent(result: Result) -> list[tuple[str, float, float, float, int]]:
    from sklearn.metrics import precision_recall_fscore_support

    labels = sorted(set(result.gold))
    p, r, f, s = precision_recall_fscore_support(
        result.gold, result.predicted, labels=labels, zero_division=0
    )
    return list(zip(labels, p, r, f, s, strict=True))


def confusion(result: Result) -> str:
    labels = sorted(set(result.gold))
    columns = [*labels, *sorted(set(result.predicted) - set(labels))]
    counts = Counter(zip(result.gold, result.predicted, strict=True))
    width = max(len(label) for label in columns) + 4
    lines = [
        "gold \\ predicted: " + "  ".join(f"{n:>2}={c}" for n, c in enumerate(columns, 1)),
        " " * width + "".join(f"{n:>4}" for n in range(1, len(columns) + 1)),
    ]
    for n, gold in enumerate(labels, 1):
        row = "".join(f"{counts[(gold, p)] or '.':>4}" for p in columns)
        lines.append(f"{n:>2} {gold:<{width - 3}}{row}")
    return "\n".join(lines)


def report(results: list[Result], overlap: int, texts: list[str]) -> str:
    rows = [summary(r) for r in results]
    out = [
        f"NLU report: trained on {TRAIN_DATA.relative_to(REPO)}, "
        f"tested on {TEST_DATA.relative_to(REPO)} ({rows[0]['examples']} examples, "
        f"{len(set(results[0].gold))} intents; {overlap} test texts in the training data)",
        "",
    ]
    head = (
        f"{'pipeline':<10}{'accuracy':>10}{'macro-F1':>10}{'OOS recall':>12}"
        f"{'fallback':>10}{'entity F1':>11}{'train s':>9}"
    )
    out += [head, "-" * len(head)]
    for row in rows:
        out.append(
            f"{row['pipeline']:<10}{row['intent_accuracy']:>10.3f}{row['macro_f1']:>10.3f}"
            f"{row['out_of_scope_recall']:>12.3f}{row['fallback_rate']:>10.3f}"
            f"{row['entity_micro']['f1']:>11.3f}{row['train_seconds']:>9.1f}"
        )
    ours = rows[0]
    verdict = (
        "met"
        if ours["intent_accuracy"] >= TARGET_ACCURACY
        and ours["out_of_scope_recall"] >= TARGET_OOS_RECALL
        else "NOT met"
    )
    out += [
        "",
        f"targets (ours): accuracy ≥ {TARGET_ACCURACY}, out_of_scope recall ≥ "
        f"{TARGET_OOS_RECALL}: {verdict}",
    ]
    for result, row in zip(results, rows, strict=True):
        out += ["", f"== {result.name}: per intent (precision / recall / F1 / support)"]
        out += [
            f"  {label:<18}{p:>7.2f}{r:>7.2f}{f:>7.2f}{s:>5}"
            for label, p, r, f, s in per_intent(result)
        ]
        out += [f"== {result.name}: entities (precision / recall / F1 / support)"]
        out += [
            f"  {kind:<18}{v['precision']:>7.2f}{v['recall']:>7.2f}{v['f1']:>7.2f}{v['support']:>5}"
            for kind, v in row["entities"].items()
        ]
        micro = row["entity_micro"]
        out.append(
            f"  {'(micro)':<18}{micro['precision']:>7.2f}{micro['recall']:>7.2f}{micro['f1']:>7.2f}"
        )
    out += ["", f"== {results[0].name}: confusion matrix", confusion(results[0])]
    errors = [
        (g, p, t)
        for g, p, t in zip(results[0].gold, results[0].predicted, texts, strict=True)
        if g != p
    ]
    if errors:
        out += ["", f"== {results[0].name}: misclassified"]
        out += [f"  {g} → {p}: {t}" for g, p, t in errors]
    if results[0].entity_errors:
        out += ["", f"== {results[0].name}: entity differences (gold / predicted)"]
        out += [f"  {t}: {gold} / {pred}" for t, gold, pred in results[0].entity_errors]
    return "\n".join(out)


def main() -> None:
    _ensure_rasa()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--only-ours", action="store_true", help="skip the default pipeline")
    parser.add_argument(
        "--config",
        type=Path,
        default=OUR_CONFIG,
        help="our pipeline (default: bot/config.yml), e.g. to try a change",
    )
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.chdir(REPO)  # bot/config.yml names bot/jieba relative to the repository
    sys.path.insert(0, str(REPO))  # ... and its DIET component by module path (bot.nlu)
    import logging

    from rasa.utils.log_utils import configure_structlog

    logging.getLogger("rasa").setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)  # no debug line per parsed message

    test = load_examples(TEST_DATA)
    training_texts = {e.text for e in load_examples(TRAIN_DATA / "nlu")}
    overlap = sum(e.text in training_texts for e in test)
    if overlap:
        sys.exit(f"{overlap} test examples also appear in the training data: fix the split")

    results = []
    with tempfile.TemporaryDirectory(prefix="nlu-report-") as folder:
        # a cache of its own: Rasa's shared training cache would make a timing of nothing
        os.environ["RASA_CACHE_DIRECTORY"] = str(Path(folder) / "cache")
        pipelines = [("ours", args.config.resolve())]
        if not args.only_ours:
            pipelines.append(("default", default_config(Path(folder))))
        for name, config in pipelines:
            model, seconds = train(config, Path(folder), name)
            results.append(evaluate(name, model, seconds, test))
    print(report(results, overlap, [e.text for e in test]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps([summary(r) for r in results], ensure_ascii=False, indent=2),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
