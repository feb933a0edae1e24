"""Follow-up codes of anonymous complaints: shown once, stored hashed, checked in constant time.

A complainant who leaves no mobile number gets a code with the complaint's number; the two
together let anyone holding them read the complaint's progress without logging in (§7.4.3).
"""

import hashlib
import hmac
import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk.complaints.models import STATUS_LABELS, TYPE_LABELS, Complaint, is_overdue
from desk.complaints.schemas import FollowUpPublic
from desk.errors import NotFound

FOLLOW_UP_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud safely
FOLLOW_UP_LENGTH = 8
_DUMMY_HASH = hashlib.sha256(b"no follow-up code").hexdigest()


def code_hash(code: str) -> str:
    cleaned = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(cleaned.encode()).hexdigest()


def new_code() -> str:
    return "".join(secrets.choice(FOLLOW_UP_ALPHABET) for _ in range(FOLLOW_UP_LENGTH))


def follow_up(session: Session, *, number: str, code: str, today: date) -> FollowUpPublic:
    """Status for whoever holds the number and its follow-up code; anything else is not found."""
    complaint = session.scalar(select(Complaint).where(Complaint.number == number.strip()))
    stored = complaint.follow_up_code_hash if complaint else None
    # compare against a dummy too, so timing does not tell which numbers exist
    matches = hmac.compare_digest(code_hash(code), stored or _DUMMY_HASH)
    if complaint is None or stored is None or not matches:
        raise NotFound("投诉编号或查询码不正确，请核对后再试。")
    return FollowUpPublic(
        number=complaint.number,
        status=complaint.status,
        status_label=STATUS_LABELS[complaint.status],
        complaint_type_label=TYPE_LABELS[complaint.complaint_type],
        institution_name=complaint.institution_name,
        received_on=complaint.received_on,
        investigation_due=complaint.investigation_due,
        overdue=is_overdue(complaint, today=today),
        resolution=complaint.resolution,
    )
