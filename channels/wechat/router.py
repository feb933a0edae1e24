"""``/wechat``: WeChat's URL verification (GET) and message callback (POST), DESIGN §4.

The callback reads as one line: check signature → decrypt → parse → de-duplicate → gateway →
reply or queue → encrypt. The answer always leaves within ``wechat_reply_deadline_s``.
"""

import time

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from channels.conversations import Conversations
from channels.metrics import observe_turn
from channels.rate_limits import RateLimits
from channels.wechat import inbound
from channels.wechat.channel import WeChatChannel
from channels.wechat.security import Rejected

router = APIRouter(tags=["wechat"])

SUCCESS = "success"  # WeChat: received, no passive reply, do not retry
MARGIN_S = 0.05  # rendering and encrypting the reply after the deadline


def _channel(request: Request) -> WeChatChannel | None:
    return getattr(request.app.state, "wechat", None)


def _refuse(exc: Rejected) -> PlainTextResponse:
    return PlainTextResponse(exc.reason, status_code=exc.status)


@router.get("/wechat", response_class=PlainTextResponse)
async def verify_url(request: Request) -> Response:
    channel = _channel(request)
    if channel is None:
        return PlainTextResponse("wechat channel is off", status_code=404)
    try:
        return PlainTextResponse(channel.envelope.verify_url(request.query_params))
    except Rejected as exc:
        return _refuse(exc)


@router.post("/wechat", response_class=PlainTextResponse)
async def callback(request: Request) -> Response:
    started = time.monotonic()
    channel = _channel(request)
    if channel is None:
        return PlainTextResponse("wechat channel is off", status_code=404)
    conversations: Conversations = request.app.state.conversations
    params = request.query_params
    try:
        xml = channel.envelope.open(params, await request.body())  # signature, age, decrypt
        message = inbound.parse(xml)
    except Rejected as exc:
        return _refuse(exc)
    incoming = inbound.understand(message)  # kinds, events, menu keys
    limits: RateLimits = request.app.state.rate_limits
    decision = await limits.message(conversation_id=incoming.conversation_id, address=None)
    if not decision.allowed:  # told in a passive reply; the message is not taken
        observe_turn(inbound.CHANNEL, "rate_limited", 0.0)
        refusal = channel.text_reply(message, decision.message)
        return Response(
            channel.envelope.seal(refusal, params.get("nonce", "")), media_type="application/xml"
        )
    incoming = await channel.with_media(incoming, message)  # a registering customer's files
    remaining = channel.deadline_s - (time.monotonic() - started) - MARGIN_S
    outcome = await conversations.handle(incoming, deadline_s=max(0.0, remaining))  # dedupe
    reply = await channel.reply(message, outcome)  # passive reply, or queued for later
    observe_turn(inbound.CHANNEL, outcome.state, time.monotonic() - started)
    if reply is None:
        return PlainTextResponse(SUCCESS)
    sealed = channel.envelope.seal(reply, params.get("nonce", ""))
    return Response(sealed, media_type="application/xml")
