"""What FastAPI's dependency_overrides cost per request, side by side with desk/provided.py.

    .venv/bin/python bench/fastapi_overrides_bench.py [--requests 1000] [--rounds 5]

One route shaped like the chat's (a JSON body, a header and four dependencies, one of them
nested), served in-process through httpx's ASGI transport, in three variants alternated round by
round: no overrides at all; one unrelated entry in ``app.dependency_overrides`` (FastAPI then
analyses every dependency of every request again); the dependency read through
``desk.provided.from_app`` with the app's table filled. Printed: the median CPU milliseconds per
request over the rounds, and the ratio to the first variant.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Header, Request
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desk.provided import from_app, provided


class Message(BaseModel):
    conversation_id: str
    text: str


def settings() -> dict[str, int]:
    return {"limit": 1}


def address(request: Request) -> str:
    return request.client.host if request.client else ""


def session(config: Annotated[dict[str, int], Depends(settings)]) -> int:
    return config["limit"]


def token(authorization: Annotated[str | None, Header()] = None) -> str:
    return authorization or ""


def unrelated() -> None:
    return None


def build(variant: str) -> FastAPI:
    app = FastAPI()
    config = Depends(from_app(settings)) if variant == "provided" else Depends(settings)

    @app.post("/api/chat/messages")
    async def post(
        body: Message,
        config: Annotated[dict[str, int], config],
        ip: Annotated[str, Depends(address)],
        db: Annotated[int, Depends(session)],
        auth: Annotated[str, Depends(token)],
    ) -> dict[str, str]:
        return {"conversation_id": body.conversation_id}

    if variant == "overrides":
        app.dependency_overrides[unrelated] = unrelated
    if variant == "provided":
        provided(app)[settings] = lambda: {"limit": 2}
    return app


async def cpu_ms_per_request(variant: str, requests: int) -> float:
    transport = httpx.ASGITransport(app=build(variant))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        body = {"conversation_id": "web:bench", "text": "你好"}
        for _ in range(50):
            await client.post("/api/chat/messages", json=body)
        started = time.process_time()
        for _ in range(requests):
            await client.post("/api/chat/messages", json=body)
        return (time.process_time() - started) / requests * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    variants = ("none", "overrides", "provided")
    seen: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(args.rounds):
        for variant in variants:
            seen[variant].append(asyncio.run(cpu_ms_per_request(variant, args.requests)))
    base = statistics.median(seen["none"])
    print(f"\n{args.requests} requests per round, {args.rounds} rounds, medians\n")
    print("| variant | CPU ms/request | × no overrides |")
    print("|---|---|---|")
    for variant in variants:
        median = statistics.median(seen[variant])
        print(f"| {variant} | {median:.3f} | {median / base:.2f} |")


if __name__ == "__main__":
    main()
