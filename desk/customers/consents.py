"""Consent to the privacy notice before contact details are stored (PIPL); keyword-only."""

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from desk import audit
from desk.customers.models import Consent
from desk.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)


class ConsentRequired(InvalidInput):
    code = "consent_required"


def record_consent(
    session: Session, *, conversation_id: str, notice_version: str, agreed: bool, actor: str
) -> Consent:
    consent = Consent(
        conversation_id=conversation_id, notice_version=notice_version, agreed=agreed, actor=actor
    )
    session.add(consent)
    audit.record(
        session,
        actor=actor,
        action="consent.record",
        subject=conversation_id,
        details={"notice_version": notice_version, "agreed": agreed},
    )
    session.commit()
    log.info(
        "consent recorded conversation=%s version=%s agreed=%s",
        conversation_id,
        notice_version,
        agreed,
    )
    return consent


def latest_consent(session: Session, *, conversation_id: str) -> Consent | None:
    query = (
        select(Consent)
        .where(Consent.conversation_id == conversation_id)
        .order_by(Consent.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def get_latest_consent(session: Session, *, conversation_id: str) -> Consent:
    consent = latest_consent(session, conversation_id=conversation_id)
    if consent is None:
        raise NotFound("该会话尚无隐私告知的同意记录。")
    return consent


def require_consent(session: Session, *, conversation_id: str | None) -> None:
    """Refuse contact details from a conversation whose latest answer is not an agreement."""
    consent = latest_consent(session, conversation_id=conversation_id) if conversation_id else None
    if consent is None or not consent.agreed:
        raise ConsentRequired(
            "保存联系方式前，需要用户先阅读隐私告知并同意；请先征得同意后再提交。"
        )
