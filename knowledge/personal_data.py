"""Personal data (mobile numbers, ID card numbers, unified social credit codes): the one place
for normalising, validating and masking them, used by the bot and the desk alike.

Two kinds of reading:

* ``normalise_*`` take a field meant to hold exactly one number (an API body, a form field) and
  return it in its canonical form, or raise :class:`ValueError` with a message for the person;
* ``find_*`` read what someone typed in a chat ("我的手机是139 1234 5678") and return the one
  valid number in it, or None when there is none or more than one.

Both accept the same numbers: a mobile is valid when ``phonenumbers`` finds it in China's
numbering plan, a credit code when its GB 32100 check character is right.

Masking keeps the first 3 and last 4 digits of an 11-digit mobile (139****5678) and the first and
last 2 characters of an ID number or credit code; anything shorter than a mobile is hidden whole.
"""

import re
import unicodedata

import phonenumbers
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

from knowledge.masking import (  # noqa: F401 - the masking rules, re-exported for their users
    CODE_CHARS,
    MOBILE_LENGTH,
    NO_MOBILE,
    mask_code,
    mask_credit_code,
    mask_id_number,
    mask_mobile,
    mask_text,
)

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")

# --- mobiles ----------------------------------------------------------------------------------

_MOBILE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_TYPED_SEPARATORS = re.compile(r"[\s\-–—_()（）.·]")
_COUNTRY_CODE = re.compile(r"^(?:\+|00)?86")
_MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def is_mobile(digits: str) -> bool:
    """Whether ``digits`` (11 digits, nothing else) is a mainland mobile number in use."""
    if not MOBILE_RE.match(digits):
        return False
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and (
        phonenumbers.number_type(number) in _MOBILE_TYPES
    )


def normalise_mobile(raw: str) -> str:
    """An 11-digit mainland mobile number from what a person typed (spaces, +86 …), or ValueError.

    ``phonenumbers`` checks it against the numbering plan of China, so 12345678901 fails too.
    """
    digits = re.sub(r"[\s\-()]", "", raw)
    digits = digits.removeprefix("+86").removeprefix("0086")
    if not is_mobile(digits):
        raise ValueError("手机号码应为11位中国大陆手机号，例如 13912345678")
    return digits


def find_mobile(raw: str | None) -> str | None:
    """The mainland mobile in a chat message, or None.

    Spaces, dashes and brackets are ignored, a leading +86 / 0086 / 86 is dropped, and a
    number inside a short sentence ("我的手机是139 1234 5678") is found when it is the only one.
    """
    if not raw:
        return None
    compact = _TYPED_SEPARATORS.sub("", raw)
    bare = _COUNTRY_CODE.sub("", compact) if len(compact) > MOBILE_LENGTH else compact
    if MOBILE_RE.match(bare):
        return bare if is_mobile(bare) else None
    found = set(_MOBILE_IN_TEXT.findall(compact.replace("+86", "").replace("0086", "")))
    if len(found) != 1:
        return None
    mobile = found.pop()
    return mobile if is_mobile(mobile) else None


# --- ID card numbers and credit codes ---------------------------------------------------------

#: the GB 32100 alphabet (no I, O, S, V, Z)
_CREDIT_CODE_IN_TEXT = re.compile(rf"[{CODE_CHARS}]{{18}}")


def _compact(raw: str) -> str:
    return re.sub(r"[\s\-]", "", raw).upper()


def normalise_credit_code(raw: str) -> str:
    """A unified social credit code (统一社会信用代码, GB 32100) with a correct check character."""
    code = _compact(raw)
    try:
        return str(uscc.validate(code))
    except stdnum_errors.InvalidLength as exc:
        raise ValueError("统一社会信用代码应为18位") from exc
    except stdnum_errors.InvalidChecksum as exc:
        raise ValueError("统一社会信用代码校验位不正确，请核对后重新输入") from exc
    except stdnum_errors.ValidationError as exc:
        raise ValueError("统一社会信用代码格式不正确") from exc


def find_credit_code(raw: str | None) -> str | None:
    """The one unified social credit code in a chat message ("某某公司 9132…", full-width
    characters too) when its check character is right, else None."""
    text = unicodedata.normalize("NFKC", raw or "").upper()
    candidates = set(_CREDIT_CODE_IN_TEXT.findall(re.sub(r"[\s\-]", "", text)))
    if len(candidates) != 1:
        return None
    code = candidates.pop()
    return code if uscc.is_valid(code) else None


def normalise_id_number(raw: str) -> str:
    """An 18-character resident ID number (居民身份证号码) with a valid date and check digit."""
    number = _compact(raw)
    try:
        return str(ric.validate(number))
    except stdnum_errors.InvalidLength as exc:
        raise ValueError("身份证号码应为18位") from exc
    except stdnum_errors.InvalidChecksum as exc:
        raise ValueError("身份证号码校验位不正确，请核对后重新输入") from exc
    except stdnum_errors.ValidationError as exc:
        raise ValueError("身份证号码格式不正确") from exc
