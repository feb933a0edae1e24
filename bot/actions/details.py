"""Every typed detail one message carries, read deterministically whatever question is open.

People write a whole need in one line on a phone (「江阴华达机械有限公司，联系人王明13912345678，
我们有50根电线电缆要测导体电阻，在周庄镇，两周内要结果，送样」). :func:`read_details` finds each
kind of value in it — product, quantity, place, date, company, contact person, mobile, credit
code, service mode — and a question asked in passing (「顺便问下要准备什么材料」). Products and
places come from the NLU lookups (bot/data/lookups), so the forms and the NLU know the same
words. :func:`kind_of` says what kind of value a short answer is, so that a date word is never
taken as a name. Pure functions: no tracker, no I/O beyond reading the lookups once.
"""

import re
import unicodedata
from dataclasses import dataclass, fields

from bot.actions.lookups import lookup, spans, synonyms
from knowledge.personal_data import find_credit_code, find_mobile

_CN_NUMBER = "0-9一二两三四五六七八九十百千万几半"
_UNIT_CHARS = "台套件批个只根米吨块卷箱片组把支份袋瓶条辆盘张桶包罐具樘株盒枚双对款种项"
_UNIT_WORDS = "批次|公斤|千克|kg|平方米|平米|立方米|样品"
# A count with its measure word (50台, 二十多根, 一批); not a part of a longer number, not a
# choice (第2个), not a duration (3个月, 1个工作日).
_QUANTITY = re.compile(
    rf"(?<![0-9第])(?:[0-9]+(?:\.[0-9]+)?|[一二两三四五六七八九十百千万几半]+)(?:多|余|来)?"
    rf"(?:{_UNIT_WORDS}|[{_UNIT_CHARS}])"
    r"(?!工作日|月|小时|钟头|星期|礼拜|周|天|日|以内|之内|内)"
)
_QUANTITY_WORDS = re.compile(r"一批|一些|少量|大批|好几批|一小批|一大批")

_DATE = re.compile(
    "|".join(
        [
            r"[0-9]{4}年[0-9]{1,2}月(?:[0-9]{1,2}[日号])?(?:前|之前|以前)?",
            r"[0-9]{1,2}月[0-9]{1,2}[日号]?(?:前|之前|以前)?",
            r"[0-9]{1,2}[日号](?:前|之前|以前)",
            rf"[{_CN_NUMBER}]+个?(?:工作日|天|日|周|星期|礼拜|个月|小时)(?:内|之内|以内|左右)?",
            rf"[{_CN_NUMBER}]+个?月(?:内|之内|以内)",
            r"(?:下|这|本|上)(?:个)?(?:周|星期|礼拜|月)[一二三四五六日天末1-7]?"
            r"(?:底|初|中)?(?:前|之前|以前)?",
            r"(?:这个?|本|下个?)?月(?:底|初|中)(?:前|之前|以前)?",
            r"(?:年底|年前|年后|节前|节后|春节前|国庆前|明年|今年)(?:前|之前)?",
            r"周[一二三四五六日天末](?:前|之前)?",
            r"(?:明天|后天|今天|大后天)(?:前|之前)?",
            r"越快越好|尽快|加急|马上|急用|急需",
        ]
    )
)
_COMPANY_SUFFIX = (
    "股份有限公司|有限责任公司|有限公司|集团公司|集团|分公司|公司|研究院|研究所|检测中心"
    "|检验中心|检定所|质检站|检测站|事务所|服务中心|合作社|工作室|商行|门市部|厂"
)
_COMPANY = re.compile(
    rf"([\u4e00-\u9fa5A-Za-z0-9（）()]{{2,30}}?(?:{_COMPANY_SUFFIX}))(?![\u4e00-\u9fa5])"
    rf"|([\u4e00-\u9fa5A-Za-z0-9（）()]{{2,30}}?(?:{_COMPANY_SUFFIX}))"
)
_NOT_A_COMPANY = re.compile(
    r"^(?:我们|我司|本|贵|你们|咱们|这家|那家|哪家|一家|找家|某|该|我|他们|其他|别的)"
)
_COMPANY_LEAD = re.compile(
    r"^.*?(?:我们是|我是|我们这边是|这边是|来自|我司是|公司名称是|公司名是|单位是|单位名称是|名称是|公司叫|厂叫|我们公司|我们单位)"
)
_SURNAME_TITLE = "先生|女士|小姐|经理|总|工|主任|老师|科长|部长"
_PERSON = (
    re.compile(
        r"联系人(?:是|为|叫|姓名)?[:：\s]*([\u4e00-\u9fa5]{2,4}?)"
        r"(?=[0-9，,。；;、\s]|电话|手机|$|联系|先生|女士)"
    ),
    re.compile(
        r"(?:我叫|我的名字(?:是|叫)|名字(?:是|叫)|姓名(?:是|为)?[:：]?|本人)"
        r"([\u4e00-\u9fa5]{2,4}?)(?=[0-9，,。；;、\s]|电话|手机|$)"
    ),
    re.compile(rf"(?:联系人|找|我是|我姓)([\u4e00-\u9fa5](?:{_SURNAME_TITLE}))"),
    re.compile(r"(?:^|[，,。；;\s])([\u4e00-\u9fa5](?:先生|女士|小姐))"),
    # a name written right beside the mobile: 「张伟 13912345678」「13912345678，张伟」
    re.compile(r"(?:^|[，,。；;\s])([\u4e00-\u9fa5]{2,3})[\s,，:：]*(?:\+?86)?1[3-9]\d{9}"),
    re.compile(r"1[3-9]\d{9}[\s,，]*([\u4e00-\u9fa5]{2,3})$"),
)
_MODE_PHRASES = (
    ("送样", ("送样", "寄样", "送检", "寄过去", "送过去", "快递过去", "邮寄样品", "自己送")),
    ("上门", ("上门", "到现场", "来现场", "现场检测", "现场服务", "现场校准", "来厂", "到厂")),
    ("预约", ("预约",)),
)
_PASSING = re.compile(
    r"(?:顺便|另外|还有|同时|再)?(?:问一?下|问问|想问|请问|咨询一?下)[，,：:\s]*(.{2,60}?)[？?。!！]*$"
)
_QUESTION_WORDS = re.compile(
    r"什么材料|哪些材料|啥材料|什么资料|哪些资料|准备什么|带什么|要带|多少钱|收费|费用|价格|"
    r"多久|多长时间|几天|怎么办|如何办理|怎么办理|流程|需要什么|要什么|有哪些"
)
_CLAUSE = re.compile(r"[，,。；;！!？?\n]")


@dataclass(frozen=True)
class Details:
    """The typed values found in one message (None when absent)."""

    product: str | None = None
    quantity: str | None = None
    place: str | None = None
    date: str | None = None
    company: str | None = None
    credit_code: str | None = None
    person: str | None = None
    mobile: str | None = None
    service_mode: str | None = None
    question: str | None = None

    def found(self) -> dict[str, str]:
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name))}


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def find_products(text: str) -> list[str]:
    words = (text[a:b] for a, b in spans(text, lookup("product")))
    return list(dict.fromkeys(synonyms("product").get(word, word) for word in words))


def find_place(text: str) -> str | None:
    """The first run of adjacent place words (江阴市 + 周庄镇 → 江阴市周庄镇)."""
    found = spans(text, lookup("place"))
    if not found:
        return None
    start, end = found[0]
    for a, b in found[1:]:
        if a != end:
            break
        end = b
    place = text[start:end]
    return synonyms("place").get(place, place)


def find_quantity(text: str) -> str | None:
    for match in _QUANTITY.finditer(text):
        value = match.group(0)
        if find_mobile(value) is None:
            return value
    words = _QUANTITY_WORDS.search(text)
    return words.group(0) if words else None


def is_vague(kind: str, value: object) -> bool:
    """A value a more precise one replaces: 「一批」 before 「20块」."""
    return kind == "quantity" and isinstance(value, str) and bool(_QUANTITY_WORDS.fullmatch(value))


def find_date(text: str) -> str | None:
    match = _DATE.search(text)
    return match.group(0) if match else None


def find_company(text: str) -> str | None:
    for clause in _CLAUSE.split(text):
        clause = _COMPANY_LEAD.sub("", clause.strip())
        match = _COMPANY.search(clause)
        if not match:
            continue
        name = (match.group(1) or match.group(2)).strip()
        name = re.sub(r"^(?:是|叫|为|在)", "", name)
        if len(name) >= 4 and not _NOT_A_COMPANY.match(name):
            return name
    return None


def find_person(text: str) -> str | None:
    for pattern in _PERSON:
        match = pattern.search(text)
        if match and is_name_like(match.group(1)):
            return match.group(1)
    return None


def find_service_mode(text: str) -> str | None:
    for mode, phrases in _MODE_PHRASES:
        if any(phrase in text for phrase in phrases):
            return mode
    return None


def find_question(text: str) -> str | None:
    """A question asked in passing beside the need: 「…，顺便问下要准备什么材料」."""
    clauses = [c.strip() for c in _CLAUSE.split(text) if c.strip()]
    for clause in clauses:
        match = _PASSING.search(clause)
        if match and _QUESTION_WORDS.search(match.group(1)):
            return match.group(1).strip()
    if (
        len(clauses) > 1
        and _QUESTION_WORDS.search(clauses[-1])
        and re.search(r"[吗么呢？?]$", text)
    ):
        return clauses[-1]
    return None


def read_details(raw: str | None) -> Details:
    """Every detail of one message."""
    text = _normal(raw or "")
    if not text or text.startswith("/"):  # a button payload carries no details
        return Details()
    mobile = find_mobile(text)
    code = find_credit_code(text)
    rest = text
    for value in (mobile, code):  # the digits of a mobile are no quantity or date
        if value:
            rest = rest.replace(value, "，")
    company = find_company(rest)
    if company:  # 「江阴华达机械有限公司」 names no place nor product
        rest = rest.replace(company, "，")
    products = find_products(rest)
    return Details(
        product="、".join(products) or None,
        quantity=find_quantity(rest),
        place=find_place(rest),
        date=find_date(rest),
        company=company,
        credit_code=code,
        person=find_person(text),
        mobile=mobile,
        service_mode=find_service_mode(rest),
        question=find_question(text),
    )


_SERVICE_WORDS = re.compile(
    r"检测|检验|测试|校准|检定|认证|计量|测[一-龥]{1,6}|化验|鉴定|评价|标准"
)


def states_a_need(details: Details, text: str) -> bool:
    """The message states what is needed: a product, or a service with another detail."""
    if details.product:
        return True
    found = set(details.found()) - {"question"}
    return bool(_SERVICE_WORDS.search(_normal(text))) and bool(found)


def kind_of(raw: str | None) -> str | None:
    """What kind of value a short answer is (date, quantity, place, product, mobile …) when
    the whole answer is one, else None: 「下周」 is a date, never a name."""
    text = _normal(raw or "").strip("，。,.！!？? ")
    if not text:
        return None
    checks = (
        ("mobile", find_mobile(text) is not None and not re.search(r"[\u4e00-\u9fa5]", text)),
        ("date", (find_date(text) or "") == text),
        ("quantity", (find_quantity(text) or "") == text),
        ("place", text in lookup("place")),
        ("product", text in lookup("product")),
        ("service_mode", find_service_mode(text) == text),
    )
    return next((kind for kind, hit in checks if hit), None)


_NOT_NAME_WORDS = re.compile(
    r"公司|工厂|机构|检测|校准|检验|认证|产品|需求|服务|数量|时间|地址|电话|手机|号码|"
    r"不知道|不清楚|没有|跳过|同意|可以|好的|谢谢|你好|您好|什么|怎么|多少|吗|呢"
)


def is_name_like(raw: str | None) -> bool:
    """Could be a person's name: 2–4 Chinese characters (or 2–20 Latin letters), and not a
    date, quantity, place, product or a common phrase."""
    text = _normal(raw or "")
    if not (
        re.fullmatch(r"[\u4e00-\u9fa5·]{2,6}", text) or re.fullmatch(r"[A-Za-z .]{2,20}", text)
    ):
        return False
    if _NOT_NAME_WORDS.search(text) or find_date(text) or find_quantity(text):
        return False
    return kind_of(text) is None
