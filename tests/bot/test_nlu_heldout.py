"""The held-out NLU sets stay out of training and apart, and each covers what it is for."""

import re
import unicodedata
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
TRAIN = REPO / "bot" / "data" / "nlu"
HELD_OUT = tuple(
    REPO / "bench" / "data" / name for name in ("nlu_test", "nlu_test_phone", "nlu_test_blind")
)
PHONE, BLIND = HELD_OUT[1], HELD_OUT[2]
MAIN_INTENTS = (
    "greet", "goodbye", "thank", "affirm", "deny", "cancel", "bot_challenge", "out_of_scope",
    "inform", "correct_info", "request_service", "ask_faq", "ask_registration", "file_complaint",
    "check_progress", "give_feedback", "request_human",
)  # fmt: skip
_ANNOTATION = re.compile(r"\[([^\]]+)\]\((\w+)\)|\[([^\]]+)\]\{\"entity\": \"(\w+)\"[^}]*\}")


def examples(folder: Path) -> list[tuple[str, str, list[str]]]:
    """(intent, plain text, entity types) of every example in the folder's YAML files."""
    found = []
    for path in sorted(folder.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                if not line.strip().startswith("- "):
                    continue
                raw = line.strip()[2:]
                kinds = [m.group(2) or m.group(4) for m in _ANNOTATION.finditer(raw)]
                text = _ANNOTATION.sub(lambda m: m.group(1) or m.group(3), raw)
                found.append((block["intent"], text, kinds))
    return found


def normalised(text: str) -> str:
    """Case, width, spaces and punctuation ignored: a held-out text must differ by more."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in text if not unicodedata.category(c).startswith(("P", "Z", "S")))


def test_no_held_out_text_is_in_the_training_data() -> None:
    trained = {normalised(text) for _, text, _ in examples(TRAIN)}
    for folder in HELD_OUT:
        leaked = [text for _, text, _ in examples(folder) if normalised(text) in trained]
        assert leaked == [], f"{folder.name}: held-out texts found in bot/data/nlu"


def test_the_sets_do_not_share_texts() -> None:
    for n, folder in enumerate(HELD_OUT):
        for earlier in HELD_OUT[:n]:
            seen = {normalised(text) for _, text, _ in examples(earlier)}
            shared = [t for _, t, _ in examples(folder) if normalised(t) in seen]
            assert shared == [], f"{folder.name} shares texts with {earlier.name}"


def test_the_blind_set_covers_every_intent_weighted_like_real_use() -> None:
    items = examples(BLIND)
    assert 300 <= len(items) <= 400
    intents = Counter(intent for intent, _, _ in items)
    known = {
        intent
        for path in (REPO / "bot" / "domain").glob("*.yml")
        for intent in yaml.safe_load(path.read_text(encoding="utf-8")).get("intents", [])
    }
    assert set(intents) == known  # every intent of the domain, and only those
    assert intents["out_of_scope"] >= 40
    big = ("request_service", "inform", "ask_faq", "check_progress", "file_complaint")
    assert {i: intents[i] for i in big if intents[i] < 20} == {}
    small = ("greet", "goodbye", "thank", "affirm", "deny", "cancel", "bot_challenge")
    assert all(intents[i] < min(intents[b] for b in big) for i in small)  # a few each
    kinds = Counter(kind for _, _, found in items for kind in found)
    wanted = {"product": 30, "place": 10, "company": 8, "person": 8, "mobile": 8, "date": 10,
              "quantity": 10, "service_mode": 5, "credit_code": 4, "case_number": 3}  # fmt: skip
    assert {k: kinds[k] for k, n in wanted.items() if kinds[k] < n} == {}
    entities = {
        e
        for path in (REPO / "bot" / "domain").glob("*.yml")
        for e in yaml.safe_load(path.read_text(encoding="utf-8")).get("entities", [])
        for e in (e if isinstance(e, dict) else {e: None})
    }
    assert set(kinds) <= entities  # every annotation is an entity the bot has
    # small talk and what the platform does not do carry no entities
    assert [t for i, t, found in items if found and i in ("out_of_scope", *small)] == []


def test_the_blind_set_mobiles_and_credit_codes_are_well_formed() -> None:
    from knowledge.personal_data import find_credit_code, find_mobile

    values: dict[str, list[str]] = {"mobile": [], "credit_code": []}
    for path in sorted(BLIND.glob("*.yml")):
        for match in _ANNOTATION.finditer(path.read_text(encoding="utf-8")):
            value, kind = match.group(1) or match.group(3), match.group(2) or match.group(4)
            if kind in values:
                values[kind].append(value)
    assert values["mobile"] and values["credit_code"]
    assert [m for m in values["mobile"] if find_mobile(m) != m] == []
    assert [c for c in values["credit_code"] if len(c) != 18 or find_credit_code(c) != c] == []


def test_the_blind_set_says_how_it_was_made() -> None:
    readme = (BLIND / "README.md").read_text(encoding="utf-8")
    for words in ("training data", "bench/data/nlu_test", "2026-12-01", "by"):
        assert words in readme


def test_the_phone_set_covers_every_intent_and_entity() -> None:
    items = examples(PHONE)
    intents = Counter(intent for intent, _, _ in items)
    assert {i: intents[i] for i in MAIN_INTENTS if intents[i] < 6} == {}
    assert set(MAIN_INTENTS) <= set(intents)
    known = {
        intent
        for path in (REPO / "bot" / "domain").glob("*.yml")
        for intent in yaml.safe_load(path.read_text(encoding="utf-8")).get("intents", [])
    }
    assert set(intents) <= known  # every label is an intent the bot has
    kinds = Counter(kind for _, _, found in items for kind in found)
    wanted = {"product": 20, "place": 8, "company": 5, "person": 5, "mobile": 5, "date": 20,
              "quantity": 8, "service_mode": 5, "credit_code": 1}  # fmt: skip
    assert {k: kinds[k] for k, n in wanted.items() if kinds[k] < n} == {}


def test_the_phone_set_holds_the_weak_spots() -> None:
    by_intent: dict[str, list[str]] = {}
    for intent, text, _ in examples(PHONE):
        by_intent.setdefault(intent, []).append(text)
    # one's own order, report or complaint without the word 进度
    assert sum("进度" not in t for t in by_intent["check_progress"]) >= 15
    # grievances told as a story, without 投诉
    assert sum("投诉" not in t and "举报" not in t for t in by_intent["file_complaint"]) >= 12
    # a person asked for out of frustration
    frustrated = ("不明白", "听不懂", "没用", "烦", "说半天")
    assert sum(any(w in t for w in frustrated) for t in by_intent["request_human"]) >= 4
    # booking an instrument or a lab as a service request
    booking = ("约", "借用", "租")
    assert sum(any(w in t for w in booking) for t in by_intent["request_service"]) >= 4


def test_the_phone_style_variants_are_what_the_generator_gives_now() -> None:
    from bot.nlu.phone_style import OUT, generate

    assert OUT.read_text(encoding="utf-8") == generate(), "run python -m bot.nlu.phone_style"


def test_a_variant_is_typed_the_way_people_type_on_a_phone() -> None:
    from bot.nlu.phone_style import variant

    assert variant("请问检测报告什么时候能出？") == "检测报告啥时候能出"
    assert variant("您好，我的需求处理了吗？") == "我的需求处理了没哈"
    # entities keep their annotation; a date's own words change with the habit (周 → 礼拜)
    assert variant("能上门吗？[下周三](date)也行") == "能上门不[下礼拜三](date)也行"
    spaced = "[江阴市周庄镇](place)，[50台](quantity)"
    assert variant(spaced) == "[江阴市周庄镇](place)[50台](quantity)"


def test_every_typed_case_number_is_labelled_in_every_set() -> None:
    """A case number the bot extracts but a set leaves unlabelled counts against its entity F1."""
    number = re.compile(r"(?:XQ|TS)\d{8}-\d{4}")
    unlabelled = [
        f"{path.relative_to(REPO)}: {line.strip()}"
        for folder in (REPO / "bench" / "data" / "nlu_test", PHONE, BLIND)
        for path in sorted(folder.glob("*.yml"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if number.search(_ANNOTATION.sub("", line))
    ]
    assert unlabelled == []
