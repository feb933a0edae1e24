"""The FastAPI application: web chat and WeChat (channels), desk API, search API, health.

``create_app`` is the whole assistant; ``create_desk_app`` is the desk's API alone (no channel,
no worker), which the desk's tests use.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from app import metrics
from app.body_limits import BodyLimitMiddleware
from app.console import mount_console
from app.database import migrate
from app.health import report as health_report
from app.settings import AppSettings
from app.settings import get_settings as get_app_settings
from channels import runtime as channels_runtime
from channels.case_notices import CaseNotices
from channels.privacy.router import router as privacy_router
from channels.settings import get_channel_settings
from channels.web.router import router as web_router
from channels.wechat.router import router as wechat_router
from desk import errors_http
from desk.audit.router import router as audit_router
from desk.calendar.router import router as calendar_router
from desk.canned.router import router as canned_router
from desk.case_lookup.router import router as case_lookup_router
from desk.case_notices import get_case_notice_port
from desk.catalogue.router import router as catalogue_router
from desk.complaints.desk_router import router as complaint_desk_router
from desk.complaints.router import router as complaints_router
from desk.consultations.ports import get_conversation_port
from desk.consultations.router import router as consultations_router
from desk.customers.router import consents_router
from desk.customers.router import router as customers_router
from desk.customers.settings import get_privacy_settings
from desk.db import get_sessionmaker
from desk.demands.desk_router import assignees_router
from desk.demands.desk_router import router as demand_desk_router
from desk.demands.router import router as demands_router
from desk.escalations.router import router as escalations_router
from desk.improvements.router import router as improvements_router
from desk.knowledge.asked_router import router as knowledge_asked_router
from desk.knowledge.curation_router import router as knowledge_curation_router
from desk.knowledge.router import router as knowledge_router
from desk.live import events as live_events
from desk.live.notifier import Notifier
from desk.live.router import get_notifier
from desk.live.router import router as live_router
from desk.provided import provided
from desk.reports.router import public_router as public_reports_router
from desk.reports.router import router as reports_router
from desk.search.embeddings_router import router as embeddings_router
from desk.search.router import router as search_router
from desk.settings import get_settings as get_desk_settings
from desk.uploads.settings import get_upload_settings
from desk.users import service as users
from desk.users.admin_router import router as users_admin_router
from desk.users.router import router as users_router
from retrieval.warmup import start_background

log = logging.getLogger(__name__)

DESK_ROUTERS = (
    demands_router,
    search_router,
    embeddings_router,
    users_router,
    calendar_router,
    complaints_router,
    customers_router,
    consents_router,
    reports_router,
    escalations_router,
    consultations_router,
    canned_router,
    live_router,
    users_admin_router,
    audit_router,
    demand_desk_router,
    complaint_desk_router,
    assignees_router,
    improvements_router,
    public_reports_router,
    knowledge_router,
    knowledge_curation_router,
    case_lookup_router,
    catalogue_router,
    knowledge_asked_router,
)


def bootstrap_admin(settings: AppSettings) -> None:
    """The first start creates an admin; a generated password is printed once, never logged."""
    assert settings.database_url is not None
    password = settings.admin_password.get_secret_value() if settings.admin_password else None
    with get_sessionmaker(settings.database_url)() as session:
        try:
            generated = users.ensure_admin(session, username=settings.admin_user, password=password)
        except IntegrityError:  # another app process created it at the same moment
            return
    if generated:
        print(
            f"\n首次启动：已创建管理员 {settings.admin_user}，初始密码 {generated}"
            "（仅显示这一次，请登录后修改）\n",
            flush=True,
        )


def _build(settings: AppSettings, *, channels: bool) -> FastAPI:
    notifier = Notifier(settings.redis_url)  # wakes web chat and console streams, across processes

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        assert settings.database_url is not None
        await run_in_threadpool(migrate, settings.database_url)
        await run_in_threadpool(bootstrap_admin, settings)
        await notifier.start()
        remove_waker = live_events.add_waker(notifier.publish_threadsafe)
        if channels:
            await channels_runtime.start(app, settings, notifier)  # gateway, WeChat, workers
            provided(app)[get_conversation_port] = lambda: app.state.consultation
            app.state.case_notices = CaseNotices(  # demands' and complaints' news, told
                settings=settings, notifier=notifier, wechat=app.state.wechat
            )
            provided(app)[get_case_notice_port] = lambda: app.state.case_notices
        if settings.warm_up:
            start_background()
        yield
        if channels:
            await channels_runtime.stop(app)
        remove_waker()
        await notifier.stop()

    app = FastAPI(title="质量门诊 Quality Clinic", version="0.1.0", lifespan=lifespan)
    # Every area reads its own settings class; all of them get this one composed object
    # (desk/provided.py: not FastAPI's dependency_overrides, which cost every request).
    table = provided(app)
    for area_settings in (get_app_settings, get_desk_settings, get_channel_settings):
        table[area_settings] = lambda: settings
    table[get_privacy_settings] = lambda: settings.privacy
    table[get_upload_settings] = lambda: settings.uploads
    table[get_notifier] = lambda: notifier
    errors_http.install(app)
    if channels:
        app.include_router(web_router)
        app.include_router(wechat_router)
        app.include_router(privacy_router)  # 撤回授权: the web page's control, staff's record
    for router in DESK_ROUTERS:
        app.include_router(router)
    mount_console(app)

    metrics.install(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, Any]:
        """200 while the app is up; each part's state (database, Redis, Rasa, actions, index)."""
        return await health_report(settings, channels=channels)

    return app


def create_app(settings: AppSettings | None = None) -> FastAPI:
    """The whole assistant: channels, their workers, the desk and the search API."""
    return _build(settings or get_app_settings(), channels=True)


def create_desk_app(settings: AppSettings | None = None) -> FastAPI:
    """The desk and search API alone: no channel routes, no gateway, no background worker."""
    return _build(settings or get_app_settings(), channels=False)
