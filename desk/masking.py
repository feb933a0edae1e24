"""Personal data in the desk: who sees it in full, and a logging filter that masks any log record,
whoever wrote it.

The rules themselves (normalising, validating and masking mobiles, ID card numbers and credit
codes) live in :mod:`knowledge.personal_data`, shared with the bot.
"""

import logging
from collections.abc import Callable, Mapping
from typing import Any

from knowledge.personal_data import mask_text

#: roles that work with people's contact details and see them in full
FULL_VIEW_ROLES = frozenset({"admin", "staff"})


def sees_personal_data(role: str) -> bool:
    """Whether ``role`` gets full mobile numbers, ID numbers and credit codes in responses."""
    return role in FULL_VIEW_ROLES


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
