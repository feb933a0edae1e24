"""Personal data (mobile numbers, ID card numbers, credit codes): validation and masking.

One place for the rules, used by every part of the desk: responses to roles that do not need the
full numbers, audit details, and a logging filter that masks any log record, whoever wrote it.
"""

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

import phonenumbers
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
#: roles that work with people's contact details and see them in full
FULL_VIEW_ROLES = frozenset({"admin", "staff"})


def sees_personal_data(role: str) -> bool:
    """Whether ``role`` gets full mobile numbers, ID numbers and credit codes in responses."""
    return role in FULL_VIEW_ROLES


# --- validation -------------------------------------------------------------------------------


def normalise_mobile(raw: str) -> str:
    """An 11-digit mainland mobile number from what a person typed (spaces, +86 …), or ValueError.

    ``phonenumbers`` checks it against the numbering plan of China, so 12345678901 fails too.
    """
    digits = re.sub(r"[\s\-()]", "", raw)
    digits = digits.removeprefix("+86").removeprefix("0086")
    error = ValueError("手机号码应为11位中国大陆手机号，例如 13912345678")
    if not MOBILE_RE.match(digits):
        raise error
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException as exc:
        raise error from exc
    mobile_types = {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in (
        mobile_types
    ):
        raise error
    return digits


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


# --- masking ----------------------------------------------------------------------------------


def mask_mobile(mobile: str) -> str:
    """139****5678."""
    return mobile[:3] + "****" + mobile[-4:] if len(mobile) >= 7 else "****"


def mask_code(value: str, *, keep: int = 2) -> str:
    """An ID number or credit code with only the first and last ``keep`` characters: 91**…**1L."""
    if len(value) <= 2 * keep:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


mask_id_number = mask_code
mask_credit_code = mask_code

_CODE_CHARS = "0-9A-HJ-NP-RTUW-Y"  # the GB 32100 alphabet (no I, O, S, V, Z)
_ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_CREDIT_RE = re.compile(
    rf"(?<![0-9A-Za-z])[{_CODE_CHARS}]{{2}}\d{{6}}[{_CODE_CHARS}]{{10}}"
    r"(?![0-9A-Za-z])"
)
_MOBILE_TEXT_RE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)?86[\s-]?)?(1[3-9]\d)[\s-]?\d{4}[\s-]?(\d{4})"
    r"(?![0-9])"
)


def mask_text(text: str) -> str:
    """Mask every mobile number, ID card number and credit code that appears in free text."""
    if not any(ch.isdigit() for ch in text):
        return text
    text = _ID_RE.sub(lambda m: mask_code(m.group(0)), text)
    text = _CREDIT_RE.sub(lambda m: mask_code(m.group(0)), text)
    return _MOBILE_TEXT_RE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


# --- logging ----------------------------------------------------------------------------------


def _mask_value(value: Any) -> Any:
    return mask_text(value) if isinstance(value, str) else value


class MaskingFilter(logging.Filter):
    """Masks personal data in a record's message, arguments, traceback and stack.

    Arguments are masked one by one where that suffices, so formatters that read ``record.args``
    (uvicorn's access log) keep working; otherwise the message is rendered and masked whole.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def mask_record(record: logging.LogRecord) -> None:
    if getattr(record, "_masked", False):
        return
    record._masked = True
    try:
        rendered = record.getMessage()
    except Exception:  # a broken format string: leave it for logging to report
        return
    masked = mask_text(rendered)
    if masked != rendered:
        msg, args = record.msg, record.args
        record.msg = _mask_value(msg)
        if isinstance(args, tuple):
            record.args = tuple(_mask_value(a) for a in args)
        elif isinstance(args, Mapping):
            record.args = {k: _mask_value(v) for k, v in args.items()}
        try:
            again = record.getMessage()
        except Exception:
            again = rendered
        if mask_text(again) != again:  # split across arguments, or inside a number: mask whole
            record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)


_installed: Callable[..., logging.LogRecord] | None = None


def install_log_masking() -> None:
    """Mask every log record of this process as it is created (all loggers, all handlers).

    A record factory reaches records that a filter on one logger or handler would miss (records of
    child loggers, handlers added later such as pytest's); it applies :class:`MaskingFilter`.
    """
    global _installed
    if _installed is not None:
        return
    previous = logging.getLogRecordFactory()
    masking = MaskingFilter()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        masking.filter(record)
        return record

    _installed = previous
    logging.setLogRecordFactory(factory)


def uninstall_log_masking() -> None:
    """Restore the record factory :func:`install_log_masking` replaced (for tests)."""
    global _installed
    if _installed is not None:
        logging.setLogRecordFactory(_installed)
        _installed = None
