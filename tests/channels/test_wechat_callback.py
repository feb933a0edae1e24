"""The /wechat callback end to end over HTTP: verification, both modes, every message kind.

Requests are signed and encrypted with wechatpy's own crypto; the app runs on a real port with
a Rasa timing double (tests/e2e drives the real Rasa).
"""

import time

import httpx
import pytest

from channels.transcript import ChatMessage
from channels.wechat import inbound
from channels.wechat.menu import MENU_INTENTS
from channels.wechat.security import signature
from tests.channels.conftest import LiveFactory
from tests.channels.wechat_calls import event_xml, message_xml, text_xml


def openid() -> str:
    import secrets

    return "o" + secrets.token_urlsafe(20)


# -- URL verification ------------------------------------------------------------------------


def test_url_verification_echoes_only_for_a_good_signature(live: LiveFactory) -> None:
    app = live()
    params = app.platform.params()
    good = httpx.get(f"{app.url}/wechat", params={**params, "echostr": "echo-123"})
    assert (good.status_code, good.text) == (200, "echo-123")

    twin = params["signature"][:-1] + ("0" if params["signature"][-1] != "0" else "1")
    bad = httpx.get(f"{app.url}/wechat", params={**params, "signature": twin, "echostr": "x"})
    assert bad.status_code == 403 and "x" not in bad.text

    stale_ts = str(int(time.time()) - 301)
    stale = app.platform.params(timestamp=stale_ts)
    old = httpx.get(f"{app.url}/wechat", params={**stale, "echostr": "x"})
    assert old.status_code == 403

    missing = httpx.get(f"{app.url}/wechat", params={"echostr": "x"})
    assert missing.status_code == 403


def test_channel_off_without_token(client: httpx.Client) -> None:
    assert client.get("/wechat").status_code == 404  # the plain app fixture: no token set


# -- both modes --------------------------------------------------------------------------------


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "aes"])
def test_text_gets_a_passive_reply(live: LiveFactory, safe: bool) -> None:
    app = live(safe=safe)
    user = openid()
    response = app.platform.post(text_xml(user, "你好"))
    reply = app.platform.reply(response)
    assert reply is not None
    assert reply["Content"] == "收到：你好"
    assert (reply["ToUserName"], reply["MsgType"]) == (user, "text")
    assert response.headers["content-type"].startswith("application/xml")
    if safe:
        assert "<Encrypt>" in response.text and "收到" not in response.text
    assert app.rasa.calls[0][:2] == (f"wx:{user}", "你好")
    assert app.transcript(f"wx:{user}") == [("user", "你好"), ("bot", "收到：你好")]
    assert [r.channel for r in app.inbound(f"wx:{user}")] == ["wechat"]


def test_plain_callback_refused_when_safe_mode_is_configured(live: LiveFactory) -> None:
    app = live(safe=True)
    params = app.platform.params()
    response = app.platform.post_raw(params, text_xml(openid(), "你好").encode())
    assert response.status_code == 403
    assert app.rasa.calls == []


def test_bad_msg_signature_and_tampered_ciphertext_are_refused(live: LiveFactory) -> None:
    app = live(safe=True)
    user = openid()
    params, body = app.platform.envelope(text_xml(user, "你好"))

    sig = params["msg_signature"]
    twin = {**params, "msg_signature": sig[:-1] + ("a" if sig[-1] != "a" else "b")}
    assert app.platform.post_raw(twin, body).status_code == 403

    # Change one character of the ciphertext and sign it properly: it no longer decrypts.
    text = body.decode()
    start = text.index("<![CDATA[", text.index("<Encrypt>")) + 9
    position = start + 40
    flipped = "A" if text[position] != "A" else "B"
    tampered = text[:position] + flipped + text[position + 1 :]
    encrypted = tampered[start : tampered.index("]]>", start)]
    resigned = {
        **params,
        "msg_signature": signature(
            app.platform.token, params["timestamp"], params["nonce"], encrypted
        ),
    }
    assert app.platform.post_raw(resigned, tampered.encode()).status_code == 400

    assert app.rasa.calls == []
    assert app.inbound(f"wx:{user}") == []


def test_stale_timestamp_is_a_replay(live: LiveFactory) -> None:
    app = live(safe=True)
    stale = str(int(time.time()) - 301)
    response = app.platform.post(text_xml(openid(), "你好"), timestamp=stale)
    assert response.status_code == 403
    future = str(int(time.time()) + 400)
    assert app.platform.post(text_xml(openid(), "你好"), timestamp=future).status_code == 403
    assert app.rasa.calls == []


@pytest.mark.parametrize(
    "body",
    [
        "<xml><MsgType>text",  # cut short
        "not xml at all",
        "<xml><ToUserName>a</ToUserName><MsgType>text</MsgType><CreateTime>1</CreateTime></xml>",
        "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>x</CreateTime>"
        "<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>",
        "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content><b>hi</b></Content><MsgId>1</MsgId></xml>",
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><xml><Content>&lol;</Content>'
        "</xml>",
        "",
    ],
    ids=["cut", "not-xml", "no-sender", "bad-time", "nested", "doctype", "empty"],
)
@pytest.mark.parametrize("safe", [False, True], ids=["plain", "aes"])
def test_malformed_xml_is_400_and_never_crashes(live: LiveFactory, safe: bool, body: str) -> None:
    app = live(safe=safe)
    response = app.platform.post(body)
    assert response.status_code == 400
    assert httpx.get(f"{app.url}/health").status_code == 200
    assert app.rasa.calls == []


# -- message kinds -----------------------------------------------------------------------------


def test_voice_uses_recognition_or_asks_for_text(live: LiveFactory) -> None:
    app = live()
    user = openid()
    heard = app.platform.say(
        message_xml(
            user, "voice", MediaId="m1", Format="amr", Recognition="我们有一批压力表需要校准"
        )
    )
    assert heard == "收到：我们有一批压力表需要校准"
    silent = app.platform.say(message_xml(user, "voice", MediaId="m2", Format="amr"))
    assert silent == inbound.ASK_FOR_TEXT
    assert app.rasa.messages() == ["我们有一批压力表需要校准"]


def test_image_and_file_are_acknowledged_and_attached(live: LiveFactory) -> None:
    app = live()
    user = openid()
    image = app.platform.say(
        message_xml(user, "image", PicUrl="http://mmbiz.qpic.cn/x", MediaId="media-1")
    )
    assert image == inbound.IMAGE_ACK
    document = app.platform.say(
        message_xml(
            user, "file", Title="检测报告.pdf", FileKey="k", FileMd5="d41d8", FileTotalLen=1024
        )
    )
    assert document is not None and "检测报告.pdf" in document
    assert app.rasa.calls == []  # attachments are not bot turns
    attached = [
        r for r in app.rows(ChatMessage, conversation_id=f"wx:{user}") if r.sender == "user"
    ]
    assert [r.text for r in attached] == ["[图片]", "[文件] 检测报告.pdf"]
    assert attached[0].payload["media_id"] == "media-1"
    assert attached[0].payload["url"] == "http://mmbiz.qpic.cn/x"
    assert attached[1].payload["title"] == "检测报告.pdf"


def test_location_label_is_the_place(live: LiveFactory) -> None:
    app = live()
    user = openid()
    reply = app.platform.say(
        message_xml(
            user,
            "location",
            Location_X=31.81,
            Location_Y=120.26,
            Scale=15,
            Label="江苏省无锡市江阴市周庄镇",
        )
    )
    assert reply == "收到：江苏省无锡市江阴市周庄镇"
    unnamed = app.platform.say(
        message_xml(user, "location", Location_X=31.8, Location_Y=120.2, Scale=15, Label="")
    )
    assert unnamed == inbound.LOCATION_UNNAMED


def test_subscribe_greets_and_unsubscribe_is_noted(live: LiveFactory) -> None:
    app = live()
    app.rasa.script["/greet"] = [{"text": "您好！我是质量门诊智能助手。您可以：1. 提出服务需求…"}]
    user = openid()
    welcome = app.platform.say(event_xml(user, "subscribe"))
    assert welcome is not None and "质量门诊" in welcome
    goodbye = app.platform.post(event_xml(user, "unsubscribe", create_time=int(time.time()) + 1))
    assert (goodbye.status_code, goodbye.text) == (200, "success")
    assert app.rasa.messages() == ["/greet"]
    contact = app.contact(user)
    assert contact is not None and contact.subscribed is False


@pytest.mark.parametrize("key", sorted(MENU_INTENTS))
def test_menu_click_starts_its_flow(live: LiveFactory, key: str) -> None:
    app = live()
    user = openid()
    reply = app.platform.say(event_xml(user, "CLICK", key))
    assert reply == f"收到：{MENU_INTENTS[key]}"
    assert app.rasa.messages() == [MENU_INTENTS[key]]


def test_unknown_click_and_view_need_no_bot(live: LiveFactory) -> None:
    app = live()
    user = openid()
    assert app.platform.say(event_xml(user, "CLICK", "NO_SUCH_KEY")) == inbound.MENU_UNKNOWN
    view = app.platform.post(
        event_xml(user, "VIEW", "https://example.org/chat", create_time=int(time.time()) + 1)
    )
    assert view.text == "success"
    assert app.rasa.calls == []


def test_buttons_become_numbered_options_and_digits_choose(live: LiveFactory) -> None:
    app = live()
    app.rasa.script["要提交"] = [
        {
            "text": "是否为您提交该需求？",
            "buttons": [
                {"title": "好的", "payload": "/affirm"},
                {"title": "暂不提交", "payload": "/deny"},
            ],
        }
    ]
    user = openid()
    offer = app.platform.say(text_xml(user, "要提交"))
    assert offer == "是否为您提交该需求？\n1. 好的\n2. 暂不提交\n（回复数字即可）"
    assert app.platform.say(text_xml(user, "1")) == "收到：/affirm"
    assert app.platform.say(text_xml(user, "2")) == "收到：2"  # no options left: just text
    assert app.rasa.messages() == ["要提交", "/affirm", "2"]
    assert app.transcript(f"wx:{user}")[2] == ("user", "1")

    app.rasa.script["方式"] = [
        {
            "text": "您希望以哪种方式办理？回复数字即可：\n1. 送样\n2. 上门",
            "buttons": [{"title": "送样", "payload": "1"}, {"title": "上门", "payload": "/visit"}],
        }
    ]
    assert app.platform.say(text_xml(user, "方式")) == app.rasa.script["方式"][0]["text"]
    app.platform.say(text_xml(user, "2"))  # the bot reads its own numbers
    assert app.rasa.messages()[-1] == "2"


def test_unsupported_kind_gets_a_hint(live: LiveFactory) -> None:
    app = live()
    reply = app.platform.say(message_xml(openid(), "miniprogrampage", Title="x"))
    assert reply == inbound.UNSUPPORTED


def test_oversized_body_is_refused_unread(live: LiveFactory) -> None:
    app = live(safe=False)
    response = app.platform.post(text_xml(openid(), "大" * 30_000))
    assert response.status_code == 400
    assert app.rasa.calls == []
