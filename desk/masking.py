"""Personal data in the desk: who sees it in full, and a logging filter that masks any log record,
whoever wrote it.

The rules themselves (normalising, validating and masking mobiles, ID card numbers and credit
codes) live in :mod:`knowledge.personal_data`, shared with the bot.
"""

from knowledge.masking import (  # noqa: F401 - the log masking, re-exported for the app
    MaskingFilter,
    install_log_masking,
    mask_record,
    uninstall_log_masking,
)

#: roles that work with people's contact details and see them in full
FULL_VIEW_ROLES = frozenset({"admin", "staff"})


def sees_personal_data(role: str) -> bool:
    """Whether ``role`` gets full mobile numbers, ID numbers and credit codes in responses."""
    return role in FULL_VIEW_ROLES
