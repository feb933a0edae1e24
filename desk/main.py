"""The FastAPI application: web chat, desk API, search API, health."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from channels import runtime as channels_runtime
from channels.web.router import router as web_router
from channels.wechat.router import router as wechat_router
from desk import errors_http
from desk.calendar.router import router as calendar_router
from desk.complaints.router import router as complaints_router
from desk.customers.router import consents_router
from desk.customers.router import router as customers_router
from desk.db import get_sessionmaker, migrate
from desk.demands.router import router as demands_router
from desk.escalations.router import router as escalations_router
from desk.reports.router import router as reports_router
from desk.search.router import router as search_router
from desk.settings import AppSettings, get_settings
from desk.users import service as users
from desk.users.router import router as users_router
from retrieval.warmup import start_background

log = logging.getLogger(__name__)


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


def create_app(settings: AppSettings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        assert settings.database_url is not None
        await run_in_threadpool(migrate, settings.database_url)
        await run_in_threadpool(bootstrap_admin, settings)
        await channels_runtime.start(app, settings)  # gateway, WeChat, retry and outbox workers
        if settings.warm_up:
            start_background()
        yield
        await channels_runtime.stop(app)

    app = FastAPI(title="质量门诊 Quality Clinic", version="0.1.0", lifespan=lifespan)
    app.dependency_overrides[get_settings] = lambda: settings
    errors_http.install(app)
    app.include_router(web_router)
    app.include_router(wechat_router)
    app.include_router(demands_router)
    app.include_router(search_router)
    app.include_router(users_router)
    app.include_router(calendar_router)
    app.include_router(complaints_router)
    app.include_router(customers_router)
    app.include_router(consents_router)
    app.include_router(reports_router)
    app.include_router(escalations_router)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
