"""Whole places and whole company names from the pieces DIET tags.

DIET tags Jieba tokens, and what it learned of names is the names it saw: 「江阴周庄」 comes out
as two places (江阴, 周庄), 「无锡市滨湖区」 as 无锡市 and 滨湖区, and a company it never saw,
「江阴市华达机械有限公司」, as a place, a product and a company in pieces, or cut short before
有限公司. This component runs after the extractors and puts the pieces back together:

* adjacent places (nothing between them, or only 市) become one place: 江阴 + 周庄 → 江阴周庄,
  and adjacent pieces of a person's name one name (马 + 志强); a "company" that is only a city
  and a town (江阴申港) is that place; spaces at an entity's ends are left out;
* a company is a run of Jieba tokens ending in a token that ends with a company word
  (有限公司, 检测中心, 厂 …), reaching back to the first word that is not part of a name (我们,
  是, 叫, 投诉, a space …); it replaces the entities inside it. Before 有限公司 and the like two
  characters make a name; before 厂, 检定所, 检测中心 … it takes four (我们厂, 食品厂 and
  计量检定所 are no company names);
* a message read as small talk or out of scope gets no repairs (it has no details).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

Entity = dict[str, Any]
START, END, TYPE, VALUE = (
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
)
NAME = "EntityRepair"

# Longest first: a token ending in 股份有限公司 is matched by that, not by 有限公司.
COMPANY_ENDINGS = (
    "股份有限公司", "有限责任公司", "有限公司", "集团公司", "检测中心", "检验中心", "计量中心",
    "服务中心", "研究院", "研究所", "检定所", "计量所", "质检站", "检测站", "事务所", "合作社",
    "集团", "分公司", "厂",
)  # fmt: skip
# A company ending needs a name of two characters before it, an institution's or a works'
# ending a name of four (我们厂, 食品厂, 计量检定所 are no company names).
STRONG_ENDINGS = frozenset(
    {"股份有限公司", "有限责任公司", "有限公司", "集团公司", "分公司", "集团"}
)
CITIES = ("无锡", "江阴", "宜兴")
# Words before a name that are not part of it.
NOT_A_NAME = frozenset(
    """我 我们 我司 我方 咱们 本公司 我公司 我单位 本单位 贵司 公司 单位
    企业 厂 厂里 工厂 是 叫 叫做 为 在 的 和 跟 与 及 或 对 给 找
    帮 帮忙 想 要 需要 全称 名字 名称 厂名 名 就是 这家 那家 这个 那个
    一家 有家 个 有 有个 改成 改为 应该 正确 换成 联系 了 把 被 向 请
    请问 您好 你好 说 由 投诉 举报 反映 关于 针对 从 到 去 问 问下 看
    查 查下 一下 还有 以及 还是 就 也 都 又 它 他们 他 她 还 再 再说
    就叫 叫作 注册 名下 委托 推荐 合作 开 开了 办 做 搞 弄 家 这边
    那边 下""".split()
)
MERGED_TYPES = ("place", "person")
GLUE = ("", "市")  # what may stand between two pieces of one place (or name: 马 + 志强)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class EntityRepair(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "merge_types": list(MERGED_TYPES),
            "companies": True,
            "skip_intents": ["out_of_scope", "goodbye", "greet", "thank", "bot_challenge"],
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = config

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EntityRepair:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        skip = set(self._config["skip_intents"])
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or (message.get(INTENT) or {}).get("name") in skip:
                continue
            entities = list(message.get(ENTITIES, []))
            if self._config["companies"]:
                tokens = [(t.start, t.end, t.text) for t in message.get("text_tokens") or []]
                entities = with_companies(text, tokens, entities)
            entities = [_as_place(_trimmed(text, e)) for e in entities]
            entities = merged(text, entities, set(self._config["merge_types"]))
            message.set(ENTITIES, entities, add_to_output=True)
        return messages


def merged(text: str, entities: list[Entity], kinds: set[str]) -> list[Entity]:
    """Entities of ``kinds`` that follow each other (nothing or GLUE between) as one."""
    positioned = sorted((e for e in entities if START in e), key=lambda e: (e[START], e[END]))
    out: list[Entity] = [e for e in entities if START not in e]
    for entity in positioned:
        last = out[-1] if out and START in out[-1] else None
        if (
            last is not None
            and last[TYPE] == entity[TYPE]
            and entity[TYPE] in kinds
            and last[END] <= entity[START]
            and text[last[END] : entity[START]] in GLUE
        ):
            out[-1] = {
                **last,
                END: entity[END],
                VALUE: text[last[START] : entity[END]],
                EXTRACTOR: NAME,
            }
        else:
            out.append(entity)
    return out


def _trimmed(text: str, entity: Entity) -> Entity:
    """The entity without the spaces DIET let in at its ends."""
    if START not in entity:
        return entity
    start, end = entity[START], entity[END]
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if (start, end) == (entity[START], entity[END]):
        return entity
    return {**entity, START: start, END: end, VALUE: text[start:end]}


def _as_place(entity: Entity) -> Entity:
    """A "company" that is only a city and a town (江阴申港, 宜兴丁蜀) is the place it names."""
    value = str(entity.get(VALUE, ""))
    if (
        entity.get(TYPE) == "company"
        and value.startswith(CITIES)
        and len(value) <= 5
        and not any(value.endswith(e) for e in COMPANY_ENDINGS)
    ):
        return {**entity, TYPE: "place", EXTRACTOR: NAME}
    return entity


def company_spans(tokens: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """(start, end) of the company names among the tokens (see the module's docstring)."""
    spans = []
    for i, (_, end, word) in enumerate(tokens):
        ending = next((e for e in COMPANY_ENDINGS if word.endswith(e)), None)
        if ending is None:
            continue
        start = tokens[i][0]
        j = i
        while j > 0:
            previous = tokens[j - 1]
            if previous[1] != tokens[j][0] or not _namelike(previous[2]):
                break
            if end - previous[0] > 30:
                break
            j -= 1
            start = previous[0]
        name_length = end - start - len(ending)
        if name_length >= (2 if ending in STRONG_ENDINGS else 4):
            spans.append((start, end))
    return spans


def _namelike(word: str) -> bool:
    return word not in NOT_A_NAME and all(c.isalnum() for c in word)


def with_companies(
    text: str, tokens: list[tuple[int, int, str]], entities: list[Entity]
) -> list[Entity]:
    """The entities with each company span as one company, replacing what it overlaps."""
    spans = company_spans(tokens)
    if not spans:
        return entities
    kept = [
        e
        for e in entities
        if START not in e or not any(e[START] < b and a < e[END] for a, b in spans)
    ]
    companies = [
        {TYPE: "company", START: a, END: b, VALUE: text[a:b], EXTRACTOR: NAME} for a, b in spans
    ]
    return sorted(kept + companies, key=lambda e: e.get(START, 0))
