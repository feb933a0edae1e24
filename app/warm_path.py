"""Walk one throwaway conversation through Rasa and the action server before users arrive.

Each part loads lazily what it needs the first time a path is taken (Rasa's TensorFlow graphs per
input shape, the action server's encoder and index, the first connections to the desk), so the
first enterprise after a start waited seconds where the others wait tenths. The launcher (and the
test stack) call ``walk`` once every part answers: a need up to the recommendation, then "no", and
a procedural question. Nothing is opened on the desk: the conversation ends before a demand.
"""

from __future__ import annotations

import logging
import time
import uuid

import httpx

log = logging.getLogger(__name__)

SCRIPT = (
    "我们有一批电线电缆需要做检测",
    "江阴市周庄镇",
    "张伟",
    "13800000000",  # a reserved test number, never a person's
    "不用了",
    "企业注册需要准备什么材料",
)


def walk(rasa_url: str, *, timeout_s: float = 60.0) -> float:
    """Send the script to Rasa's REST channel as ``warmup:<uuid>``; returns the seconds it took."""
    sender = f"warmup:{uuid.uuid4()}"
    started = time.perf_counter()
    with httpx.Client(base_url=rasa_url, timeout=timeout_s) as client:
        for text in SCRIPT:
            client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    return time.perf_counter() - started
