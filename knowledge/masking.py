"""Masking of personal data (mobile numbers, ID card numbers, unified social credit codes) in
text and in log records: the standard library only, so that every process can use it — the app,
the action server and Rasa's server, whose environment cannot import the rest of ``knowledge``
(bot/server/log_masking.py loads this file by its path).

Masking keeps the first 3 and last 4 digits of an 11-digit mobile (139****5678) and the first and
last 2 characters of an ID number or credit code; anything shorter than a mobile is hidden whole.
"""

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

MOBILE_LENGTH = 11
CODE_CHARS = "0-9A-HJ-NP-RTUW-Y"  # GB 32100's alphabet (no I, O, S, V, Z)

# --- text ----------------------------------------------------------------------------------

NO_MOBILE = "-"


def mask_mobile(mobile: str | None) -> str:
    """139****5678; "-" when there is none, "****" for anything shorter than a mobile (keeping
    3 + 4 characters of a shorter string would show most or all of it)."""
    if not mobile:
        return NO_MOBILE
    return mobile[:3] + "****" + mobile[-4:] if len(mobile) >= MOBILE_LENGTH else "****"


def mask_code(value: str, *, keep: int = 2) -> str:
    """An ID number or credit code with only the first and last ``keep`` characters: 91**…**1L."""
    if len(value) <= 2 * keep:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


mask_id_number = mask_code
mask_credit_code = mask_code

_ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_CREDIT_RE = re.compile(
    rf"(?<![0-9A-Za-z])[{CODE_CHARS}]{{2}}\d{{6}}[{CODE_CHARS}]{{10}}"
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


ERASED = "[已删除]"


def redact_text(text: str, *, known: Iterable[str] = ()) -> str:
    """Erase (not mask) personal data from free text: every mobile, ID card number and credit
    code the detectors of :func:`mask_text` find, and each ``known`` value (a contact's name or
    mobile the records hold) where it appears, become ``[已删除]``. Erasing twice changes
    nothing."""
    for value in sorted({k for k in known if k and len(k) >= 2}, key=len, reverse=True):
        text = text.replace(value, ERASED)
    if not any(ch.isdigit() for ch in text):
        return text
    text = _ID_RE.sub(ERASED, text)
    text = _CREDIT_RE.sub(ERASED, text)
    return _MOBILE_TEXT_RE.sub(ERASED, text)


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
    record._masked = True  # type: ignore[attr-defined]
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
