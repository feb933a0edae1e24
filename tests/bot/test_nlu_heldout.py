"""Both held-out NLU sets stay out of training, and the phone-typed set covers what it is for."""

import re
import unicodedata
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
TRAIN = REPO / "bot" / "data" / "nlu"
HELD_OUT = (REPO / "bench" / "data" / "nlu_test", REPO / "bench" / "data" / "nlu_test_phone")
PHONE = HELD_OUT[1]
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


def test_the_two_sets_do_not_share_texts() -> None:
    first = {normalised(text) for _, text, _ in examples(HELD_OUT[0])}
    assert [t for _, t, _ in examples(PHONE) if normalised(t) in first] == []


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
