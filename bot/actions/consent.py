"""The privacy notice and the user's consent, recorded on the desk (POST /api/consents)."""

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.actions import desk_client

T = TypeVar("T")

logger = logging.getLogger(__name__)

CONSENTS_PATH = "/api/consents"
# Version of the notice the user saw (utter_privacy_notice in bot/domain/privacy.yml); change it
# together with the wording, so that the desk knows which text each consent answered.
NOTICE_VERSION = "qclinic-privacy-v1"


async def record_consent(conversation_id: str, *, agreed: bool) -> bool:
    """Record the answer on the desk; False (and a warning) when the desk did not take it.

    The conversation goes on either way: refusing the user's answer because the desk is down
    would lose more than it protects. The log carries no personal data.
    """
    body = {"conversation_id": conversation_id, "notice_version": NOTICE_VERSION, "agreed": agreed}
    try:
        await desk_client.post_json(CONSENTS_PATH, body)
    except desk_client.DeskClientError as exc:
        logger.warning(
            "consent not recorded conversation=%s agreed=%s code=%s status=%s",
            conversation_id,
            agreed,
            exc.code,
            exc.status,
        )
        return False
    logger.info(
        "consent recorded conversation=%s agreed=%s version=%s",
        conversation_id,
        agreed,
        NOTICE_VERSION,
    )
    return True


CONSENT_REQUIRED = "consent_required"  # the desk's code when contact details come before consent


async def retrying_after_consent(
    call: Callable[[], Awaitable[T]], *, conversation_id: str, consented: bool
) -> T:
    """Run ``call``; when the desk says consent is missing although the user agreed (the first
    record was lost, e.g. the desk was down then), record it again and run ``call`` once more."""
    try:
        return await call()
    except desk_client.DeskClientError as exc:
        if exc.code != CONSENT_REQUIRED or not consented:
            raise
        if not await record_consent(conversation_id, agreed=True):
            raise
        return await call()
