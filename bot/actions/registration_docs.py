"""Pure parts of registration in chat (§7.1.1): which questions are left, which materials each
kind of user uploads (§7.1.1.3, §7.1.1.4), what the desk is sent, and the day a name changed."""

import calendar
import re
from datetime import date, timedelta
from typing import Any

from bot.actions.validators import compact

ENTERPRISE, INDIVIDUAL = "enterprise", "individual"
KEPT = "kept"  # a material already uploaded that a rejection did not name: not asked again
NO_DOCUMENT = "none"  # no qualification certificate; the reason is in reg_qualification_note
# the form's slot of each material, in the order they are asked, and the desk's kind
DOCUMENT_SLOTS = {
    "reg_licence": "business_licence",
    "reg_qualification": "qualification",
    "reg_pledge": "integrity_pledge",
    "reg_id_card": "id_card",
}
KIND_DOCUMENTS = {
    ENTERPRISE: ("reg_licence", "reg_qualification", "reg_pledge"),
    INDIVIDUAL: ("reg_id_card",),
}
SLOT_OF_KIND = {kind: slot for slot, kind in DOCUMENT_SLOTS.items()}
REGISTRATION_SLOTS = (
    "reg_kind",
    "reg_name",
    "reg_credit_code",
    "reg_contact_name",
    "reg_mobile",
    "reg_customer_id",
    *DOCUMENT_SLOTS,
    "reg_qualification_note",
    "reg_pending",
)
NAME_CHANGE_SLOTS = ("reg_new_name", "reg_changed_on", "reg_new_licence")


def name_change_deadline(today: date) -> date:
    """The earliest day a name change may be reported (§7.1.1.6: within one month): the same day a
    calendar month earlier, the month's last day where it has no such day. The desk applies the
    same rule (desk/customers/reviews.py one_month_before); a test keeps the two equal."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def registration_required_slots(slots: dict[str, Any]) -> list[str]:
    """The form's questions for the kind chosen: details first, then each material."""
    kind = slots.get("reg_kind")
    if kind == INDIVIDUAL:
        details = ["reg_kind", "reg_name", "reg_mobile"]
    else:
        details = ["reg_kind", "reg_name", "reg_credit_code", "reg_contact_name", "reg_mobile"]
    return [*details, *KIND_DOCUMENTS.get(str(kind), KIND_DOCUMENTS[ENTERPRISE])]


def awaited_document(slots: dict[str, Any]) -> str | None:
    """The desk's kind of the material the form asks for now, or None."""
    return DOCUMENT_SLOTS.get(str(slots.get("requested_slot")))


def customer_body(conversation_id: str, slots: dict[str, Any]) -> dict[str, Any]:
    kind = str(slots.get("reg_kind"))
    enterprise = kind == ENTERPRISE
    return {
        "kind": kind,
        "name": slots.get("reg_name"),
        "conversation_id": conversation_id,
        "contact_name": slots.get("reg_contact_name") if enterprise else slots.get("reg_name"),
        "mobile": slots.get("reg_mobile"),
        "credit_code": slots.get("reg_credit_code") if enterprise else None,
    }


def review_body(slots: dict[str, Any]) -> dict[str, Any]:
    """The newest upload of each kind goes for review (the desk picks them); a stated reason
    stands in for a missing qualification certificate."""
    note = slots.get("reg_qualification_note")
    if slots.get("reg_qualification") == NO_DOCUMENT and note:
        return {"qualification_note": str(note)}
    return {}


def document_id_of(value: Any) -> int | None:
    """The desk's id of an upload the channel announced (``/upload_document{"document_id":…}``)."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


_NO_WORDS = re.compile(r"没有|无|暂无|不需要|不涉及|没办|未取得|还没")


def qualification_reason(raw: str) -> str | None:
    """A reason there is no qualification certificate: a sentence, not a bare 没有."""
    text = (raw or "").strip().strip("，。,.！!")
    if len(compact(text)) < 4 or (not _NO_WORDS.search(text) and len(compact(text)) < 6):
        return None
    return text[:500]


_ISO = re.compile(r"(20\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})")
_MONTH_DAY = re.compile(r"(\d{1,2})月(\d{1,2})[日号]?")
_DAYS_AGO = re.compile(r"(\d{1,2}|[一二两三四五六七八九十])天(?:以)?前")
_CN = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN["十"] = 10
_RELATIVE = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2, "上周": 7, "上星期": 7}


def changed_on_of(raw: str, *, today: date) -> date | None:
    """The day a name changed, from 2026-11-20 / 11月20日 / 昨天 / 3天前 / 上周, or None."""
    text = compact(raw)
    try:
        if match := _ISO.search(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _MONTH_DAY.search(text):
            day = date(today.year, int(match[1]), int(match[2]))
            return day if day <= today else date(today.year - 1, day.month, day.day)
    except ValueError:
        return None
    if match := _DAYS_AGO.search(text):
        token = match[1]
        return today - timedelta(days=int(token) if token.isdigit() else _CN[token])
    for word, days in _RELATIVE.items():
        if word in text:
            return today - timedelta(days=days)
    return None
