"""The enterprise's side of a waiting escalation: what each of its messages is answered.

* a holding note with its place in the queue and the expected wait — in full at most once a
  minute (``holding_repeat_s``), otherwise a short acknowledgement. Every message is in the
  transcript all the same: the expert reads them when taking over;
* a cancel (「算了」「不用了」「取消转人工」「不需要了」, the whole message) closes the escalation
  (outcome ``cancelled``) and gives the conversation back to the bot;
* once the enterprise was told nobody can take it now (``Escalation.notice``), 「留言」 closes
  it too and hands the user to the bot, which takes the need down as a demand (need form).

A claimed escalation is not answered here: every message, cancel words too, goes to the expert.
"""

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from channels.gateway import BotMessage
from channels.models import as_utc
from channels.transcript import ChatMessage
from desk.escalations import queue
from desk.escalations import service as escalations
from desk.escalations.models import Escalation
from desk.escalations.settings import ConsultationSettings
from desk.sla import RESPOND_WORKING_DAYS

CANCEL_WORDS = frozenset(
    {"算了", "算了吧", "不用了", "不用了谢谢", "取消", "取消转人工", "不需要了", "不转人工了"}
)
LEAVE_WORDS = frozenset({"留言", "我要留言"})

HOLDING = (
    "已为您转接专家，{place}，预计等待约{minutes}分钟。"
    "您可以继续留言，专家接入后会看到；回复“算了”可取消转人工。"
)
HOLDING_UNATTENDED = (
    "您的留言已记录。目前暂无专家接入，回复“留言”可把问题登记为需求"
    f"（工作人员{RESPOND_WORKING_DAYS}个工作日内响应），回复“算了”可回到智能助手。"
)
# the short acknowledgement between two full notes
WAITING_FOR_EXPERT = "您的留言已记录，人工专家接入后会在这里一并回复您，请稍候。"
CANCELLED = "好的，已为您取消转人工，智能助手回来为您服务。请问还有什么可以帮您？"
LEFT_TO_BOT = (
    "好的，已为您转回智能助手。请直接描述您的需求（例如要检测的产品和所在地），"
    f"助手会帮您登记为需求，工作人员将在{RESPOND_WORKING_DAYS}个工作日内响应。"
)
FULL_NOTE = {"holding": "full"}  # the transcript row's mark of a full holding note


def normalise(text: str) -> str:
    """The words alone: width folded, punctuation, symbols and spaces dropped."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded if unicodedata.category(c)[0] not in "PSZC")


def is_cancel(text: str) -> bool:
    return normalise(text) in CANCEL_WORDS


def is_leave(text: str) -> bool:
    return normalise(text) in LEAVE_WORDS


@dataclass(frozen=True)
class WaitingAnswer:
    replies: tuple[BotMessage, ...]
    payload: dict[str, Any]  # kept on the replies' transcript rows


def holding_note(session: Session, *, escalation: Escalation) -> str:
    if escalation.notice is not None:  # told nobody can take it now: the way out, not a wait
        return HOLDING_UNATTENDED
    standing = queue.standing(session, escalation=escalation)
    ahead = standing.queue_position - 1
    place = f"您前面还有{ahead}位企业" if ahead else "您是下一位"
    return HOLDING.format(place=place, minutes=standing.expected_wait_minutes)


def full_note_lately(
    session: Session, *, escalation: Escalation, moment: datetime, repeat: timedelta
) -> bool:
    """A full holding note of this escalation went out within ``repeat``."""
    since = max(moment - repeat, as_utc(escalation.created_at) or moment).astimezone(UTC)
    rows = session.scalars(
        select(ChatMessage.payload).where(
            ChatMessage.conversation_id == escalation.conversation_id,
            ChatMessage.sender == "system",
            ChatMessage.created_at >= since,
        )
    )
    return any((payload or {}).get("holding") == FULL_NOTE["holding"] for payload in rows)


def close(session: Session, *, escalation: Escalation, outcome: str, moment: datetime) -> bool:
    """Close the still-waiting escalation for the user, once (a conditional UPDATE decides
    against an expert claiming it at the same moment); in the caller's transaction."""
    won = session.execute(
        update(Escalation)
        .where(Escalation.id == escalation.id, Escalation.status == "waiting")
        .values(notice=outcome)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(escalation)
    escalations.release(
        session,
        escalation_id=escalation.id,
        actor="system",
        note="用户取消转人工" if outcome == "cancelled" else "用户选择留言，转智能助手登记需求",
        moment=moment,
        supervisor=True,
        outcome=outcome,
        commit=False,
    )
    return True


def answer(
    session: Session,
    *,
    escalation: Escalation,
    text: str,
    moment: datetime,
    settings: ConsultationSettings,
) -> WaitingAnswer | None:
    """The local answer to a message while ``escalation`` waits; None when an expert claimed
    it meanwhile (the message is the expert's, with no answer)."""
    if is_cancel(text) or (escalation.notice is not None and is_leave(text)):
        outcome = "cancelled" if is_cancel(text) else "demand_by_bot"
        if close(session, escalation=escalation, outcome=outcome, moment=moment):
            reply = CANCELLED if outcome == "cancelled" else LEFT_TO_BOT
            return WaitingAnswer((BotMessage(reply),), {})
        session.refresh(escalation)
        if escalation.status != "waiting":
            return None if escalation.status == "claimed" else WaitingAnswer((), {})
    repeat = timedelta(seconds=settings.holding_repeat_s)
    if full_note_lately(session, escalation=escalation, moment=moment, repeat=repeat):
        return WaitingAnswer((BotMessage(WAITING_FOR_EXPERT),), {})
    return WaitingAnswer(
        (BotMessage(holding_note(session, escalation=escalation)),), dict(FULL_NOTE)
    )
