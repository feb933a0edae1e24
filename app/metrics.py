"""``GET /metrics``: Prometheus counters and latency histograms per route (here) and per channel
(channels.metrics). Each process serves its own; a scraper reads every replica."""

import time
from typing import Any

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "qclinic_http_requests",
    "HTTP requests by route, method and status",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "qclinic_http_request_seconds",
    "Seconds to the response's headers, by route",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0),
)
UNMATCHED = "(unmatched)"  # 404s and static files are counted together, never by raw path


def route_of(scope: Scope) -> str:
    """The route's template (``/api/demands/{number}``), so numbers never become labels."""
    route: Any = scope.get("route")
    return str(getattr(route, "path", None) or UNMATCHED)


class MetricsMiddleware:
    """Pure ASGI (streams pass through untouched): counts each request and times its headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_measured(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                HTTP_SECONDS.labels(route=route_of(scope), method=scope["method"]).observe(
                    time.perf_counter() - started
                )
            await send(message)

        try:
            await self.app(scope, receive, send_measured)
        finally:
            HTTP_REQUESTS.labels(
                route=route_of(scope), method=scope["method"], status=str(status)
            ).inc()


def install(app: FastAPI) -> None:
    app.add_middleware(MetricsMiddleware)

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
