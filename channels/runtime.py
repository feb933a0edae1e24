"""Start and stop the channels with the app: gateway, conversations, WeChat, background workers
(retries, the WeChat outbox, the handoff's timers), and the console's view of the conversations
(``app.state.consultation``)."""

import asyncio
import contextlib
import logging
import socket
from datetime import timedelta

from fastapi import FastAPI

from channels import rate_limits
from channels.consultation import ChannelConversations
from channels.conversations import Conversations
from channels.gateway import RasaGateway
from channels.notices import NoticeWorker
from channels.privacy.erase import tracker_engine
from channels.privacy.retention import RetentionWorker
from channels.settings import ChannelSettings
from channels.spool import Spool, spool_path
from channels.spool_order import SpoolOrder
from channels.web.router import WebDeliverer
from desk.db import get_sessionmaker
from desk.escalations.timers import Notice
from desk.live.notifier import Notifier

log = logging.getLogger(__name__)


async def start(app: FastAPI, settings: ChannelSettings, notifier: Notifier) -> None:
    """The app owns the notifier (the desk's console stream uses it too) and starts it first."""
    assert settings.database_url is not None
    gateway = RasaGateway(
        settings.rasa_servers,
        timeout_s=settings.rasa_timeout_s,
        token=settings.secret("rasa_token"),
        actions_url=settings.actions_url,
    )
    spool = Spool(spool_path(settings.var_dir, settings.database_url))
    # with replicas (Redis shared), their kept messages of one conversation are taken in in the
    # order they came, whichever replica kept them (channels/spool_order.py)
    spool_order = (
        SpoolOrder(
            settings.redis_url,
            owner=f"{socket.gethostname()}:{spool.path.resolve()}",
            database_url=settings.database_url,
        )
        if settings.redis_url
        else None
    )
    conversations = Conversations(
        database_url=settings.database_url,
        gateway=gateway,
        notifier=notifier,
        turn_timeout_s=settings.rasa_timeout_s,
        retry_interval_s=settings.retry_interval_s,
        settle_s=max(settings.turn_settle_s, settings.rasa_timeout_s),
        consultation=settings.consultation,
        # messages the database could not take in time, kept on this machine until it is back
        spool=spool,
        spool_order=spool_order,
    )
    conversations.register("web", WebDeliverer())
    app.state.rate_limits = rate_limits.build(
        redis_url=settings.redis_url,
        per_conversation=settings.rate_limit_per_conversation,
        per_address=settings.rate_limit_per_address,
    )
    app.state.notifier, app.state.gateway, app.state.conversations = (
        notifier,
        gateway,
        conversations,
    )
    app.state.wechat = None
    workers: list[asyncio.Task[None]] = []
    if settings.wechat_enabled:
        from channels.wechat.channel import WeChatChannel

        app.state.wechat = WeChatChannel(settings, conversations)
        if settings.background_workers:
            workers.append(asyncio.create_task(app.state.wechat.outbox.run(), name="outbox"))
    # The desk's ConversationPort (desk/consultations/ports.py), for the console's routes.
    consultation = app.state.consultation = ChannelConversations(
        settings=settings,
        conversations=conversations,
        gateway=gateway,
        notifier=notifier,
        wechat=app.state.wechat,
    )

    async def hand_back_idle(notice: Notice) -> object:
        return await consultation.hand_back(
            conversation_id=notice.conversation_id,
            channel=notice.channel,
            expert="system",
            outcome="timeout",
            escalation_id=notice.escalation_id,
            greet=False,  # the notice told the user
        )

    # the handoff's timers (widen the offer, tell a waiting enterprise, close a silent one)
    app.state.notices = NoticeWorker(
        sessions=get_sessionmaker(settings.database_url),
        deliverers=conversations.deliverers,
        notifier=notifier,
        settings=settings.consultation,
        hand_back=hand_back_idle,
    )
    # PIPL Art. 19: personal data past the retention leaves transcripts, tracker, closed cases
    app.state.retention = RetentionWorker(
        sessions=get_sessionmaker(settings.database_url),
        tracker=tracker_engine(settings.database_url),
        retention=timedelta(days=settings.retention_days),
        check_s=settings.retention_check_s,
    )
    if settings.background_workers:
        workers.append(asyncio.create_task(conversations.run_worker(), name="retry"))
        workers.append(asyncio.create_task(app.state.notices.run(), name="handoff-timers"))
        workers.append(asyncio.create_task(app.state.retention.run(), name="retention-purge"))
    app.state.channel_workers = workers


async def stop(app: FastAPI) -> None:
    for task in app.state.channel_workers:
        task.cancel()
    for task in app.state.channel_workers:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await app.state.conversations.aclose()
    await app.state.gateway.aclose()
    await app.state.rate_limits.close()
