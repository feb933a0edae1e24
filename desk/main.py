"""The FastAPI application: web chat, desk API, search API, health."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from channels.gateway import RasaGateway
from channels.web.router import router as web_router
from desk import errors_http
from desk.calendar.router import router as calendar_router
from desk.complaints.router import router as complaints_router
from desk.db import get_sessionmaker, migrate
from desk.demands.router import router as demands_router
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
            generated = users.ensure_admin(
                session, username=settings.admin_user, password=password
            )
        except IntegrityError:  # another app process created it at the same moment
            return
    if generated:
        print(f"\n首次启动：已创建管理员 {settings.admin_user}，初始密码 {generated}"
              "（仅显示这一次，请登录后修改）\n", flush=True)


def create_app(settings: AppSettings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        assert settings.database_url is not None
        await run_in_threadpool(migrate, settings.database_url)
        await run_in_threadpool(bootstrap_admin, settings)
        app.state.gateway = RasaGateway(settings.rasa_url, timeout_s=settings.rasa_timeout_s)
        if settings.warm_up:
            start_background()
        yield
        await app.state.gateway.aclose()

    app = FastAPI(title="质量门诊 Quality Clinic", version="0.1.0", lifespan=lifespan)
    app.dependency_overrides[get_settings] = lambda: settings
    errors_http.install(app)
    app.include_router(web_router)
    app.include_router(demands_router)
    app.include_router(search_router)
    app.include_router(users_router)
    app.include_router(calendar_router)
    app.include_router(complaints_router)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
