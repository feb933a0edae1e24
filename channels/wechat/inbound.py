"""What a user did on WeChat, as the gateway needs it: parse the XML, map each kind of message.

* text goes to the bot; a digit picks one of the numbered options of the last turn;
* voice goes as its Recognition text, or the user is asked to type;
* image, file, video, link are acknowledged and kept in the transcript (attachments); a
  registering customer's images and files are fetched and stored as its documents first
  (channels/wechat/media.py), and the bot is told which one arrived;
* location goes to the bot as the place (its label);
* events: subscribe greets (the bot's welcome lists what it can do), menu CLICK keys start
  flows by intent, unsubscribe and VIEW are only noted.
"""

from dataclasses import replace
from typing import Any

from wechatpy.messages import BaseMessage
from wechatpy.parser import parse_message

from channels.contracts import Incoming
from channels.gateway import BotMessage
from channels.wechat.menu import MENU_INTENTS, MENU_TITLES
from channels.wechat.security import Rejected, refuse_doctype

CHANNEL = "wechat"

ASK_FOR_TEXT = "抱歉，没能识别这段语音。请用文字描述您的需求，例如“我们有一批电线电缆需要做检测”。"
IMAGE_ACK = (
    "已收到您发送的图片，已附在本次会话记录中，工作人员处理时可以查看。"
    "请继续用文字描述您的需求或问题。"
)
FILE_ACK = "已收到您发送的文件“{title}”，已附在本次会话记录中，工作人员处理时可以查看。"
VIDEO_ACK = "已收到您发送的视频，已附在本次会话记录中。请用文字简要说明您的需求。"
LINK_ACK = "已收到您分享的链接“{title}”，已附在本次会话记录中。"
LOCATION_UNNAMED = (
    "已收到您的位置。请再用文字告诉我所在的市、区（县）或镇（街道），例如“江阴市周庄镇”。"
)
MENU_UNKNOWN = "这个菜单暂未开放。请直接发送文字告诉我您的需求。"
UNSUPPORTED = "暂不支持这种类型的消息，请发送文字，例如“我们有一批压力表需要校准”。"

TEXT_FIELDS = ("FromUserName", "ToUserName", "MsgType", "Content", "Event", "EventKey")


def parse(xml: str) -> BaseMessage:
    """wechatpy's message object; malformed XML or missing essentials: 400, never a crash."""
    refuse_doctype(xml)
    try:
        message = parse_message(xml)
        data: dict[str, Any] = message._data
        for name in TEXT_FIELDS:
            if name in data and data[name] is not None and not isinstance(data[name], str):
                raise ValueError(name)
        if not message.source or not message.target:
            raise ValueError("FromUserName")
        int(data["CreateTime"])
        if message.type != "event" and int(data.get("MsgId") or 0) <= 0:
            raise ValueError("MsgId")
    except Rejected:
        raise
    except Exception as exc:
        raise Rejected(400, "malformed message") from exc
    return message


def conversation_id(openid: str) -> str:
    return f"wx:{openid}"


def dedupe_key(message: BaseMessage) -> str:
    """MsgId for messages; sender and CreateTime for events (WeChat's own rule)."""
    data = message._data
    if message.type == "event":
        return f"wx:evt:{message.source}:{data['CreateTime']}"
    return f"wx:msg:{data['MsgId']}"


def understand(message: BaseMessage) -> Incoming:
    """The gateway's view of one WeChat message (a digit is matched to options on accept)."""
    data: dict[str, Any] = message._data
    base: dict[str, Any] = {
        "conversation_id": conversation_id(message.source),
        "channel": CHANNEL,
        "dedupe_key": dedupe_key(message),
    }
    kind = str(data.get("MsgType", "")).lower()

    def note(text: str, reply: str | None = None, **payload: Any) -> Incoming:
        replies = (BotMessage(text=reply),) if reply else ()
        return Incoming(
            **base,
            kind=kind,
            text=text,
            bot_text=None,
            payload={"kind": kind, **payload},
            local_replies=replies,
        )

    def to_bot(text: str, bot_text: str, **payload: Any) -> Incoming:
        return Incoming(
            **base,
            kind=kind,
            text=text,
            bot_text=bot_text,
            payload={"kind": kind, **payload} if payload else {},
        )

    if kind == "text":
        text = (data.get("Content") or "").strip()
        if not text:
            return note("", UNSUPPORTED)
        return replace(to_bot(text, text), numbered_options=True)
    if kind == "voice":
        recognition = (data.get("Recognition") or "").strip()
        media = {"media_id": data.get("MediaId"), "format": data.get("Format")}
        if recognition:
            return to_bot(recognition, recognition, voice=True, **media)
        return note("[语音]", ASK_FOR_TEXT, **media)
    if kind == "image":
        return note("[图片]", IMAGE_ACK, media_id=data.get("MediaId"), url=data.get("PicUrl"))
    if kind == "file":
        title = str(data.get("Title") or "文件")
        return note(
            f"[文件] {title}",
            FILE_ACK.format(title=title),
            title=title,
            size=data.get("FileTotalLen"),
            md5=data.get("FileMd5"),
        )
    if kind in {"video", "shortvideo"}:
        return note("[视频]", VIDEO_ACK, media_id=data.get("MediaId"))
    if kind == "link":
        title = str(data.get("Title") or "链接")
        return note(
            f"[链接] {title}", LINK_ACK.format(title=title), title=title, url=data.get("Url")
        )
    if kind == "location":
        label = (data.get("Label") or "").strip()
        place = {"x": data.get("Location_X"), "y": data.get("Location_Y"), "label": label}
        if label:
            return to_bot(f"[位置] {label}", label, **place)
        return note("[位置]", LOCATION_UNNAMED, **place)
    if kind == "event":
        return _event(message, base)
    return note(f"[{kind or '未知'}]", UNSUPPORTED)


def _event(message: BaseMessage, base: dict[str, Any]) -> Incoming:
    data: dict[str, Any] = message._data
    event = str(data.get("Event") or "").lower()
    key = str(data.get("EventKey") or "")
    kind = f"event:{event}"

    def only_note(text: str, reply: str | None = None, **payload: Any) -> Incoming:
        replies = (BotMessage(text=reply),) if reply else ()
        return Incoming(
            **base,
            kind=kind,
            text=text,
            bot_text=None,
            payload={"kind": kind, **payload},
            local_replies=replies,
        )

    if event.startswith("subscribe"):  # also subscribe_scan (a QR code with a scene)
        return Incoming(
            **base, kind=kind, text="[关注公众号]", bot_text="/greet", payload={"kind": kind}
        )
    if event == "unsubscribe":
        return only_note("[取消关注]")
    if event == "click":
        intent = MENU_INTENTS.get(key)
        if intent is None:
            return only_note(f"[菜单] {key}", MENU_UNKNOWN, key=key)
        return Incoming(
            **base,
            kind=kind,
            text=f"[菜单] {MENU_TITLES.get(key, key)}",
            bot_text=intent,
            payload={"kind": kind, "key": key},
        )
    if event == "view":
        return only_note("[打开菜单链接]", url=key)
    return only_note(f"[事件] {event}", key=key)
