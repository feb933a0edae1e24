"""What the handoff's timers tell the enterprise, through its own channel (desk/escalations/timers).

Every ``sweep_interval_s`` the worker runs the desk's sweep; each notice is written as a
``system`` transcript line and handed to the channel's deliverer in the transaction that won it
(web: the page's stream shows the new line once the notifier wakes it; WeChat: the outbox sends
it as a customer-service message). Several app processes may sweep at once: the desk's
conditional UPDATEs make each notice and each close happen once.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from channels import transcript
from channels.contracts import Deliverer
from channels.transcript import ChatMessage
from desk.clock import CHINA, now
from desk.escalations import timers
from desk.escalations.settings import ConsultationSettings
from desk.escalations.timers import Notice, SweepResult
from desk.live.notifier import Notifier
from desk.sla import RESPOND_WORKING_DAYS

log = logging.getLogger(__name__)

_WEEKDAYS = "一二三四五六日"
LEAVE_OFFER = (
    f"您也可以回复“留言”，把问题登记为需求，工作人员将在{RESPOND_WORKING_DAYS}个工作日内响应；"
    "回复“算了”可回到智能助手。"
)
OUT_OF_HOURS = (
    "现在不在人工服务时间（工作日 9:00—17:00），专家将于{start}起在这里回复您，"
    "您的问题已为您保留。" + LEAVE_OFFER
)
OFFLINE = "目前暂无专家在线，您的问题已为您保留，专家上线后会在这里回复您。" + LEAVE_OFFER
TIMEOUT = "抱歉，专家暂时都在忙，还没能接入您的咨询。您可以继续等待。" + LEAVE_OFFER
IDLE = (
    "由于{minutes}分钟内没有新消息，本次人工咨询已结束，已为您转回智能助手。"
    "如需再次咨询专家，请回复“转人工”。"
)
SPEAKERS = ("user", "expert")  # who keeps a consultation alive (system lines and notes do not)


def start_words(moment: datetime) -> str:
    """'6月16日（周一）9:00', in China time."""
    local = moment.astimezone(CHINA)
    return f"{local.month}月{local.day}日（周{_WEEKDAYS[local.weekday()]}）{local.hour}:{local:%M}"


def words(notice: Notice) -> str:
    if notice.kind == "out_of_hours":
        assert notice.next_service_start is not None
        return OUT_OF_HOURS.format(start=start_words(notice.next_service_start))
    if notice.kind == "offline":
        return OFFLINE
    if notice.kind == "timeout":
        return TIMEOUT
    return IDLE.format(minutes=notice.idle_minutes)


def last_message_at(session: Session, conversation_id: str, since: datetime) -> datetime | None:
    """The newest line of the user or an expert after ``since`` (UTC, as the transcript)."""
    return session.scalar(
        select(func.max(ChatMessage.created_at)).where(
            ChatMessage.conversation_id == conversation_id,
            ChatMessage.sender.in_(SPEAKERS),
            ChatMessage.created_at >= since.astimezone(UTC),
        )
    )


HandBack = Callable[[Notice], Awaitable[object]]


class NoticeWorker:
    """Runs the handoff's timers and delivers what they say."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        deliverers: Mapping[str, Deliverer],
        notifier: Notifier,
        settings: ConsultationSettings,
        hand_back: HandBack | None = None,
    ) -> None:
        self._hand_back = hand_back
        self._sessions = sessions
        self._deliverers = deliverers
        self._notifier = notifier
        self._settings = settings

    def tell(self, session: Session, notice: Notice) -> None:
        """Inside the transaction that won the notice: the line and its delivery."""
        row = transcript.record(
            session,
            conversation_id=notice.conversation_id,
            channel=notice.channel,
            sender="system",
            text=words(notice),
            payload={"notice": notice.kind, "escalation_id": notice.escalation_id},
        )
        session.flush()
        deliverer = self._deliverers.get(notice.channel)
        if deliverer is not None:
            deliverer.enqueue(
                session,
                conversation_id=notice.conversation_id,
                messages=[transcript.public(row)],
                inbound_id=None,
            )

    def sweep_once(self, moment: datetime) -> SweepResult:
        with self._sessions() as session:
            return timers.sweep(
                session,
                moment=moment,
                settings=self._settings,
                last_message_at=last_message_at,
                tell=self.tell,
            )

    async def sweep(self, moment: datetime | None = None) -> SweepResult:
        """One round: the timers at ``moment`` (now), then the pages and outboxes woken."""
        result = await run_in_threadpool(self.sweep_once, moment or now())
        for notice in result.notices:
            await self._notifier.publish(notice.conversation_id)
            if notice.kind == "idle" and self._hand_back is not None:
                await self._hand_back(notice)  # the bot learns what the expert said
        for channel in {n.channel for n in result.notices}:
            deliverer = self._deliverers.get(channel)
            if deliverer is not None:
                await deliverer.wake()
        return result

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._settings.sweep_interval_s)
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("handoff timers round failed")
