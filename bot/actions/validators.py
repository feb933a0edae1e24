"""Pure checks and clean-ups of what the user typed into the forms.

Mobiles and credit codes are read by :mod:`knowledge.personal_data` (``find_mobile``,
``find_credit_code``), the rules the desk applies too.
"""

import re
import unicodedata

_EDGE_PUNCTUATION = " \t\r\n，。,.！!？?；;：:、~～\"'“”‘’"

MAX_PRODUCT_CHARS = 50
MAX_PLACE_CHARS = 50
MIN_NAME_CHARS = 2
MAX_NAME_CHARS = 20

_FILLER_START = re.compile(r"^(?:[嗯啊哦呃唔]+|那个)[，,\s]*")
_FILLER_END = re.compile(r"[吧呀啊哈呢]+$")
_NAME_PREFIX = re.compile(
    r"^(?:我的名字(?:是|叫)|我叫|我是|本人|名字(?:是|叫)|姓名(?:是|为)?|"
    r"联系人(?:是|为|叫)?|叫|就?(?:写|填))[:：\s]*"
)
_PLACE_PREFIX = re.compile(
    r"^(?:我们|我司|公司|单位|企业|工厂|厂子?|样品)?(?:的)?(?:地址|位置)?(?:是|在|位于|设在)[:：\s]*"
)
_PRODUCT_PREFIX = re.compile(r"^(?:产品|对象|样品)?(?:是|为)[:：\s]*")


def _trim(raw: str) -> str:
    return raw.strip(_EDGE_PUNCTUATION)


def clean_name(raw: str) -> str | None:
    """A contact name: 2–20 characters once polite wrappers are removed, not a number."""
    name = _FILLER_START.sub("", _trim(raw or ""))
    name = _trim(_FILLER_END.sub("", _trim(_NAME_PREFIX.sub("", name))))
    if not MIN_NAME_CHARS <= len(name) <= MAX_NAME_CHARS:
        return None
    if re.search(r"\d", name) or re.search(r"[，,。；;：:！!？?]", name):
        return None  # a number or a sentence, not a name
    return name


def clean_place(raw: str) -> str | None:
    """Where the enterprise or the sample is: non-empty, at most 50 characters."""
    place = _trim(_PLACE_PREFIX.sub("", _trim(raw or "")))
    if not place or len(place) > MAX_PLACE_CHARS:
        return None
    return place


def clean_product(raw: str) -> str | None:
    """The product or object of the service: non-empty, at most 50 characters."""
    product = _trim(_PRODUCT_PREFIX.sub("", _trim(raw or "")))
    if not product or len(product) > MAX_PRODUCT_CHARS:
        return None
    return product


# --- short answers: choices, skips, consent ---------------------------------------------------

_CN_DIGITS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CHOICE = re.compile(
    r"^(?:我)?(?:选|选择|要|就|是)?(?:第)?([1-9]|[一二两三四五六七八九])"
    r"(?:个|项|号|家|条|种|位)?(?:吧|呗|啊|的)?$"
)


def compact(raw: str | None) -> str:
    """NFKC (full-width digits and letters become ASCII), no spaces or edge punctuation."""
    text = unicodedata.normalize("NFKC", raw or "")
    return re.sub(r"\s+", "", text).strip(_EDGE_PUNCTUATION).lower()


def parse_choice(raw: str | None, count: int) -> int | None:
    """The option number in a short answer such as "2", "第二个", "选3", or None."""
    match = _CHOICE.match(compact(raw))
    if not match:
        return None
    token = match.group(1)
    number = int(token) if token.isdigit() else _CN_DIGITS[token]
    return number if 1 <= number <= count else None


_SKIP_WORDS = {
    "跳过",
    "不清楚",
    "不知道",
    "没有",
    "无",
    "暂无",
    "不用",
    "不需要",
    "没",
    "略",
    "不确定",
    "还不清楚",
    "还不确定",
    "不好说",
    "说不准",
    "没有了",
    "不填",
    "先不填",
    "没要求",
    "无要求",
    "没有要求",
    "skip",
    "pass",
    "不晓得",
    "暂时没有",
    "以后再说",
    "不方便说",
}


def is_skip(raw: str | None) -> bool:
    """The user has nothing to say for an optional question."""
    return compact(raw).rstrip("吧了啊呢") in _SKIP_WORDS or compact(raw) in _SKIP_WORDS


_AGREE_WORDS = {
    "同意",
    "我同意",
    "同意并继续",
    "好的",
    "好",
    "可以",
    "行",
    "没问题",
    "ok",
    "okay",
    "嗯",
    "嗯嗯",
    "是的",
    "对",
    "同意的",
    "好的同意",
    "可以的",
    "没意见",
    "接受",
    "/affirm",
}
_REFUSE = re.compile(r"不同意|不愿意|不想留|不留|拒绝|不方便|不要留|不给|不提供|/deny")


def is_agreement(raw: str | None) -> bool:
    return compact(raw) in _AGREE_WORDS


def is_refusal(raw: str | None) -> bool:
    text = compact(raw)
    return bool(_REFUSE.search(text)) or text in {"不", "不要", "不用了", "不了", "no"}


_ANONYMOUS = re.compile(r"匿名|不留|不想留|不方便留|不提供|不给")


def is_anonymous(raw: str | None) -> bool:
    return bool(_ANONYMOUS.search(compact(raw)))


# --- need details ----------------------------------------------------------------------------

MAX_DETAIL_CHARS = 50
SERVICE_MODES = ("送样", "上门", "预约", "均可")
_MODE_WORDS = (
    ("送样", ("送样", "寄样", "送检", "寄过去", "送过去", "自己送", "快递", "邮寄", "送到")),
    ("上门", ("上门", "现场", "来厂", "到厂", "来我们", "来公司", "到现场", "到我们")),
    ("预约", ("预约", "约时间", "约个时间", "排期")),
    ("均可", ("都可以", "都行", "均可", "无所谓", "随便", "都可")),
)


def service_mode_of(raw: str | None) -> str | None:
    """送样 / 上门 / 预约 / 均可 from the user's words or an option number (1–4)."""
    choice = parse_choice(raw, len(SERVICE_MODES))
    if choice:
        return SERVICE_MODES[choice - 1]
    text = compact(raw)
    for mode, words in _MODE_WORDS:
        if any(word in text for word in words):
            return mode
    return None


def clean_detail(raw: str | None) -> str | None:
    """A short free answer (quantity, date, company): trimmed, 1–50 characters."""
    text = _trim(raw or "")
    if not text or len(text) > MAX_DETAIL_CHARS:
        return None
    return text


# --- scores ----------------------------------------------------------------------------------

_SCORE_WORDS = (
    (1, ("非常不满意", "很不满意", "极差", "很差", "太差", "非常差", "差评")),
    (2, ("不满意", "不太满意", "较差", "比较差", "不好")),
    (3, ("一般", "还行", "凑合", "马马虎虎", "中等", "还可以")),
    (5, ("非常满意", "很满意", "特别满意", "满分", "非常好", "很好", "好评", "完美", "超级满意")),
    (4, ("满意", "比较满意", "挺好", "不错", "较好", "良好", "好")),
)
_SCORE_NUMBER = re.compile(r"^(?:打|给|评)?([1-5]|[一二两三四五])(?:分|星|颗星|星级)?(?:吧|的)?$")


def parse_score(raw: str | None) -> int | None:
    """A 1–5 score from "4", "4分", "五星" or words such as 很满意 / 一般 / 不满意."""
    text = compact(raw)
    match = _SCORE_NUMBER.match(text)
    if match:
        token = match.group(1)
        return int(token) if token.isdigit() else _CN_DIGITS[token]
    for score, words in _SCORE_WORDS:
        if any(word in text for word in words):
            return score
    return None
