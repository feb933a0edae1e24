"""Find one's demand or complaint from any conversation (§5.1 d): its number plus the mobile that
submitted it, or an anonymous complaint's follow-up code. A match links the conversation to the
case (it then sees the case and gets its news); a wrong pair is refused with the same words
whether the number exists or not, and a conversation has only ``MAX_FAILURES`` wrong tries a day.
Keyword-only and free of HTTP."""

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from desk import cases
from desk.case_lookup.links import linked_to
from desk.case_lookup.models import CaseLink, CaseLookupAttempt
from desk.complaints.follow_up import code_hash
from desk.complaints.models import Complaint
from desk.complaints.service import COMPLAINTS
from desk.customers.service import linked_conversations
from desk.demands.models import Demand
from desk.demands.service import DEMANDS
from desk.errors import DeskError, NotFound
from knowledge.personal_data import mask_mobile

log = logging.getLogger(__name__)

MAX_FAILURES = 5  # wrong pairs per conversation within FAILURE_WINDOW
FAILURE_WINDOW = timedelta(hours=24)
NUMBER_RE = re.compile(r"^(XQ|TS)\d{8}-\d{4}$")
NO_MATCH = "编号与手机号（或查询码）不匹配，请核对后再试。"
LOCKED = (
    "查询次数过多，为保护您的信息，今天暂不能再查询；请稍后再试，或回复“转人工”由工作人员核实。"
)
_DUMMY = hashlib.sha256(b"no such case").hexdigest()


class TooManyAttempts(DeskError):
    code = "too_many_attempts"
    status = 429


@dataclass(frozen=True)
class Found:
    kind: str  # demand | complaint
    number: str
    status: str
    status_label: str
    linked: bool  # a new link (False: the conversation saw the case already)


def _digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


def failures(session: Session, *, conversation_id: str, moment: datetime) -> int:
    return int(
        session.scalar(
            select(func.count(CaseLookupAttempt.id)).where(
                CaseLookupAttempt.conversation_id == conversation_id,
                CaseLookupAttempt.matched.is_(False),
                CaseLookupAttempt.at > moment - FAILURE_WINDOW,
            )
        )
        or 0
    )


def _proves(case: Demand | Complaint | None, *, mobile: str | None, code: str | None) -> bool:
    """Constant-time comparisons, done also when the case is missing (timing tells nothing)."""
    stored_mobile = _digits(case.contact_mobile) if case is not None else ""
    given = _digits(mobile)
    by_mobile = hmac.compare_digest(
        hashlib.sha256(given.encode()).hexdigest(),
        hashlib.sha256(stored_mobile.encode()).hexdigest() if stored_mobile else _DUMMY,
    )
    by_code = False
    if isinstance(case, Complaint) or case is None:
        stored = case.follow_up_code_hash if isinstance(case, Complaint) else None
        by_code = hmac.compare_digest(code_hash(code or ""), stored or _DUMMY)
        by_code = by_code and stored is not None and bool(code)
    return case is not None and ((bool(given) and by_mobile) or by_code)


def lookup(
    session: Session,
    *,
    conversation_id: str,
    number: str,
    mobile: str | None,
    follow_up_code: str | None,
    moment: datetime,
    actor: str,
) -> Found:
    """The case the pair proves, linked to ``conversation_id``; commits (the attempt counts)."""
    moment = moment.astimezone(UTC)  # stored in UTC like the other tables (SQLite drops zones)
    if failures(session, conversation_id=conversation_id, moment=moment) >= MAX_FAILURES:
        log.warning("case lookup locked conversation=%s", conversation_id)
        raise TooManyAttempts(LOCKED)
    number = "".join(number.split()).upper()
    case: Demand | Complaint | None = None
    if NUMBER_RE.match(number) and number.startswith("XQ"):
        case = session.scalar(select(Demand).where(Demand.number == number))
    elif NUMBER_RE.match(number):
        case = session.scalar(select(Complaint).where(Complaint.number == number))
    matched = _proves(case, mobile=mobile, code=follow_up_code)
    session.add(CaseLookupAttempt(conversation_id=conversation_id, matched=matched, at=moment))
    if not matched or case is None:
        session.commit()
        log.info(
            "case lookup refused conversation=%s number=%s mobile=%s",
            conversation_id,
            number,
            mask_mobile(mobile) if mobile else "-",
        )
        raise NotFound(NO_MATCH)
    kind: cases.CaseKind[Any] = DEMANDS if isinstance(case, Demand) else COMPLAINTS
    linked = _link(session, kind, case, conversation_id=conversation_id, actor=actor)
    session.commit()
    log.info(
        "case lookup matched conversation=%s number=%s mobile=%s linked=%s",
        conversation_id,
        number,
        mask_mobile(mobile) if mobile else "-",
        linked,
    )
    return Found(
        kind="demand" if isinstance(case, Demand) else "complaint",
        number=case.number,
        status=case.status,
        status_label=kind.labels[case.status],
        linked=linked,
    )


def _link(
    session: Session,
    kind: cases.CaseKind[Any],
    case: Demand | Complaint,
    *,
    conversation_id: str,
    actor: str,
) -> bool:
    seen = linked_conversations(session, conversation_id=conversation_id)
    if case.conversation_id in seen or linked_to(session, number=case.number, conversations=seen):
        return False
    try:
        with session.begin_nested():  # the attempt stays whatever happens to the link
            session.add(CaseLink(number=case.number, conversation_id=conversation_id))
    except IntegrityError:  # the same link committed meanwhile
        return False
    cases.record_step(
        session,
        kind,
        case,
        actor=actor,
        note=f"企业在另一会话中凭{kind.noun}编号核实身份后查询，已关联该会话，后续进展将在该会话告知。",
        action="link",
        details={"conversation_id": conversation_id},
    )
    return True
