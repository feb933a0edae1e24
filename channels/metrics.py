"""Prometheus counters and latency histograms of the chat, per channel (``/metrics``, app.metrics).

``outcome`` is the turn's ``Outcome.state`` (replied, later, unavailable), or ``rate_limited``.
"""

from prometheus_client import Counter, Histogram

TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0)

CHAT_MESSAGES = Counter(
    "qclinic_chat_messages", "Incoming chat messages by channel and outcome", ["channel", "outcome"]
)
CHAT_TURN_SECONDS = Histogram(
    "qclinic_chat_turn_seconds",
    "Seconds from a message's arrival to the answer of its request",
    ["channel"],
    buckets=TURN_BUCKETS,
)


def observe_turn(channel: str, outcome: str, seconds: float) -> None:
    CHAT_MESSAGES.labels(channel=channel, outcome=outcome).inc()
    if outcome != "rate_limited":
        CHAT_TURN_SECONDS.labels(channel=channel).observe(seconds)
