"""The app hands its settings and ports to the routes through desk/provided.py, not through
FastAPI's dependency_overrides (which re-analyses every dependency of every request)."""

from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from app.main import create_app, create_desk_app
from app.settings import AppSettings
from desk.customers.settings import PrivacySettings, get_privacy_settings
from desk.provided import from_app, provided


def _probe_app() -> FastAPI:
    app = FastAPI()

    @app.get("/probe")
    def probe(
        privacy: Annotated[PrivacySettings, Depends(from_app(get_privacy_settings))],
    ) -> dict[str, bool]:
        return {"require_consent": privacy.require_consent}

    return app


def test_a_route_gets_what_the_app_provides_else_the_default() -> None:
    app = _probe_app()
    with TestClient(app) as client:
        assert client.get("/probe").json() == {"require_consent": True}  # the default
        provided(app)[get_privacy_settings] = lambda: PrivacySettings(require_consent=False)
        assert client.get("/probe").json() == {"require_consent": False}
    assert from_app(get_privacy_settings) is from_app(get_privacy_settings)  # one dependency


def test_the_composed_apps_leave_fastapis_overrides_empty(app_settings: AppSettings) -> None:
    for build in (create_app, create_desk_app):
        app = build(app_settings)
        assert app.dependency_overrides == {}
        assert provided(app)[get_privacy_settings]() is app_settings.privacy
