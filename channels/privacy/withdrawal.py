"""An enterprise withdraws its consent (撤回授权, PIPL Art. 47): its contact details leave the
desk's records, the conversation's transcript and Rasa's tracker, and it is told what went and
what stays.

Three ways in, one function (:func:`withdraw`):

* the web chat page's 撤回授权 control (a confirmation first), ``POST /api/chat/privacy/withdraw``;
* the keyword 「撤回授权」 in a chat (WeChat or web): the bot is not asked (no NLU), a confirmation
  with numbered answers comes back, and 1 (the confirm payload) withdraws (:func:`answer`);
* staff record one received by phone or letter: ``POST /api/privacy/withdrawals``.
"""

import logging
import re
from dataclasses import dataclass, replace

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from channels import transcript
from channels.contracts import Incoming
from channels.gateway import BotMessage
from channels.privacy.erase import (
    contact_values,
    erase_tracker,
    erase_transcript,
    load_events,
    tracker_engine_of,
)
from desk.privacy.service import Erased, withdraw_consent

log = logging.getLogger(__name__)

KEYWORDS = frozenset({"撤回授权", "撤销授权", "撤回同意", "撤回隐私授权"})
CONFIRM, CANCEL = "/privacy_withdraw_confirm", "/privacy_withdraw_cancel"
ASK = (
    "您要撤回对隐私告知的授权吗？撤回后，我们将删除您提供的联系人姓名、手机号码等联系方式"
    "（需求、投诉和会话记录中的都会删除），需求和投诉的编号及办理内容会保留。"
)
CONFIRM_TITLE, CANCEL_TITLE = "确认撤回", "暂不撤回"
KEPT_AS_IS = "好的，授权保持不变。"
DONE = (
    "已为您撤回授权。已删除：{erased}。已保留：{kept}。"
    "如需我们再联系您，请重新同意隐私告知后提供联系方式。"
)
ERASED_WORDS = "本会话记录中的联系人姓名、手机号码、身份证号码等个人信息"
REGISTRATION_WORDS = "注册信息中的联系人和手机号码"
KEPT_WORDS = "需求和投诉的编号、办理内容和进度（用于继续办理和依法留存）"
ENTERPRISE = "enterprise"  # the audit's actor when the enterprise withdraws in a chat
_SPACES = re.compile(r"[\s。.!！]+")


@dataclass(frozen=True)
class Withdrawal:
    erased: Erased
    transcript_rows: int
    tracker_events: int
    text: str  # what the enterprise is told


def told(erased: Erased) -> str:
    parts = []
    if cases := erased.demands + erased.complaints:
        parts.append(f"{'、'.join(cases)} 的联系方式")
    if erased.customers:
        parts.append(REGISTRATION_WORDS)
    parts.append(ERASED_WORDS)
    return DONE.format(erased="，".join(parts), kept=KEPT_WORDS)


def withdraw(
    session: Session,
    *,
    conversation_id: str | None,
    number: str | None = None,
    via: str,
    actor: str,
    tracker: Engine | None = None,
    commit: bool = True,
) -> Withdrawal:
    """Erase the enterprise's contact details everywhere and record the withdrawal; commits
    unless ``commit`` is False (the caller's transaction holds more).

    The tracker's events are erased in their own transactions (erasing is idempotent: a failure
    after them leaves nothing that a retry would not finish)."""
    tracker = tracker if tracker is not None else tracker_engine_of(session)
    erased = withdraw_consent(
        session, conversation_id=conversation_id, number=number, via=via, actor=actor
    )
    rows = events = 0
    for cid in erased.conversations:
        known = erased.values | contact_values(load_events(tracker, cid))
        events += erase_tracker(tracker, sender_id=cid, known=known, consent=True).events
        rows += erase_transcript(session, conversation_id=cid, known=known)
    text = told(erased)
    if commit:
        session.commit()
    log.info(
        "withdrawal erased via=%s conversations=%d transcript_rows=%d tracker_events=%d",
        via,
        len(erased.conversations),
        rows,
        events,
    )
    return Withdrawal(erased, rows, events, text)


def is_keyword(text: str | None) -> bool:
    return bool(text) and _SPACES.sub("", text or "") in KEYWORDS


WITHDRAW = "privacy_withdraw"  # the payload key that marks a confirmed withdrawal


def answer(incoming: Incoming) -> Incoming:
    """A chat message about withdrawing consent, answered here without the bot: the keyword
    asks for confirmation (buttons on the web page, numbered replies on WeChat); the cancel
    keeps the consent; the confirm is marked, for :func:`confirmed` once the message is kept."""
    text = incoming.bot_text
    if text is None:
        return incoming
    if is_keyword(text):
        buttons = [
            {"title": CONFIRM_TITLE, "payload": CONFIRM},
            {"title": CANCEL_TITLE, "payload": CANCEL},
        ]
        return _local(incoming, BotMessage(text=ASK, buttons=buttons))
    if text == CANCEL:
        return _local(incoming, BotMessage(text=KEPT_AS_IS))
    if text == CONFIRM:
        marked = replace(incoming, payload={**incoming.payload, WITHDRAW: True})
        return _local(marked, BotMessage(text=""))
    return incoming


def confirmed(session: Session, incoming: Incoming) -> Incoming:
    """The withdrawal of a confirmed message, in the caller's transaction (which commits it
    with the message: a WeChat retry of the same message is a duplicate, not a second one)."""
    if not incoming.payload.get(WITHDRAW):
        return incoming
    done = withdraw(
        session,
        conversation_id=incoming.conversation_id,
        via="wechat" if incoming.channel == "wechat" else "web",
        actor=ENTERPRISE,
        commit=False,
    )
    return _local(incoming, BotMessage(text=done.text))


def _local(incoming: Incoming, reply: BotMessage) -> Incoming:
    return replace(incoming, bot_text=None, local_replies=(reply,))


def record_told(session: Session, *, conversation_id: str, channel: str, text: str) -> int:
    """The withdrawal's answer as a line of the conversation (the page shows it from history)."""
    row = transcript.record(
        session,
        conversation_id=conversation_id,
        channel=channel,
        sender="system",
        text=text,
        payload={"notice": "privacy"},
    )
    session.flush()
    return row.id
