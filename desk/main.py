"""The FastAPI application: web chat, desk API, search API, health."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from channels.gateway import RasaGateway
from channels.web.router import router as web_router
from desk import errors_http
from desk.db import migrate
from desk.demands.router import router as demands_router
from desk.search.router import router as search_router
from desk.settings import AppSettings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: AppSettings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        assert settings.database_url is not None
        await run_in_threadpool(migrate, settings.database_url)
        app.state.gateway = RasaGateway(settings.rasa_url, timeout_s=settings.rasa_timeout_s)
        yield
        await app.state.gateway.aclose()

    app = FastAPI(title="质量门诊 Quality Clinic", version="0.1.0", lifespan=lifespan)
    app.dependency_overrides[get_settings] = lambda: settings
    errors_http.install(app)
    app.include_router(web_router)
    app.include_router(demands_router)
    app.include_router(search_router)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
