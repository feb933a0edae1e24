"""Pure checks and clean-ups of what the user typed into the need form."""

import re

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_SEPARATORS = re.compile(r"[\s\-–—_()（）.·]")
_COUNTRY_CODE = re.compile(r"^(?:\+|00)?86")
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


def normalise_mobile(raw: str) -> str | None:
    """The 11-digit mainland mobile in `raw`, or None.

    Spaces, dashes and brackets are ignored, a leading +86 / 0086 / 86 is dropped, and a
    number inside a short sentence ("我的手机是139 1234 5678") is found when it is the only one.
    """
    if not raw:
        return None
    compact = _SEPARATORS.sub("", raw)
    bare = _COUNTRY_CODE.sub("", compact) if len(compact) > 11 else compact
    if MOBILE_RE.match(bare):
        return bare
    found = _MOBILE_IN_TEXT.findall(compact.replace("+86", "").replace("0086", ""))
    return found[0] if len(set(found)) == 1 else None


def clean_name(raw: str) -> str | None:
    """A contact name: 2–20 characters once polite wrappers are removed, not a number."""
    name = _FILLER_START.sub("", _trim(raw or ""))
    name = _trim(_FILLER_END.sub("", _trim(_NAME_PREFIX.sub("", name))))
    if not MIN_NAME_CHARS <= len(name) <= MAX_NAME_CHARS:
        return None
    if re.fullmatch(r"[\d\s+\-]+", name):
        return None
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


def mask_mobile(mobile: str | None) -> str:
    """139****5678, for logs."""
    if not mobile:
        return "-"
    return mobile[:3] + "****" + mobile[-4:] if len(mobile) >= 8 else "****"
