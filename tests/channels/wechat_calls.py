"""WeChat's side of the callback: real signed (and AES-encrypted) requests, made with wechatpy.

Replies are opened with wechatpy's own ``WeChatCrypto.decrypt_message``, which also checks the
reply's signature.
"""

import itertools
import secrets
import time
from typing import Any

import httpx
import xmltodict
from wechatpy.crypto import WeChatCrypto

from channels.wechat.security import signature

ACCOUNT = "gh_qclinic0001"
_msg_ids = itertools.count(int(time.time() * 1000) * 1000)


def message_xml(
    openid: str,
    msg_type: str,
    *,
    create_time: int | None = None,
    msg_id: int | None = None,
    **fields: Any,
) -> str:
    """A message or event as WeChat posts it (MsgId for messages, none for events)."""
    parts = [
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>",
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>",
    ]
    for name, value in fields.items():
        if isinstance(value, int | float):
            parts.append(f"<{name}>{value}</{name}>")
        else:
            parts.append(f"<{name}><![CDATA[{value}]]></{name}>")
    if msg_type != "event":
        parts.append(f"<MsgId>{msg_id or next(_msg_ids)}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


def text_xml(openid: str, content: str, **kwargs: Any) -> str:
    return message_xml(openid, "text", Content=content, **kwargs)


def event_xml(openid: str, event: str, key: str | None = None, **kwargs: Any) -> str:
    fields: dict[str, Any] = {"Event": event}
    if key is not None:
        fields["EventKey"] = key
    return message_xml(openid, "event", **fields, **kwargs)


class WeChatPlatform:
    """Posts callbacks to our /wechat as WeChat's servers would."""

    def __init__(
        self, base_url: str, *, token: str, aes_key: str | None = None, app_id: str | None = None
    ) -> None:
        self.url = base_url.rstrip("/") + "/wechat"
        self.token = token
        self.crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None
        self.http = httpx.Client(timeout=30)

    def params(self, *, timestamp: str | None = None, nonce: str | None = None) -> dict[str, str]:
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**9))
        return {
            "timestamp": timestamp,
            "nonce": nonce,
            "signature": signature(self.token, timestamp, nonce),
            "openid": "ignored",
        }

    def envelope(self, xml: str, **kwargs: Any) -> tuple[dict[str, str], bytes]:
        params = self.params(**kwargs)
        if self.crypto is None:
            return params, xml.encode()
        sealed = self.crypto.encrypt_message(xml, params["nonce"], params["timestamp"])
        parsed = xmltodict.parse(sealed)["xml"]
        params.update(encrypt_type="aes", msg_signature=parsed["MsgSignature"])
        body = (
            f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<Encrypt><![CDATA[{parsed['Encrypt']}]]></Encrypt></xml>"
        )
        return params, body.encode()

    def post(self, xml: str, **kwargs: Any) -> httpx.Response:
        params, body = self.envelope(xml, **kwargs)
        return self.http.post(
            self.url, params=params, content=body, headers={"Content-Type": "text/xml"}
        )

    def post_raw(self, params: dict[str, str], body: bytes) -> httpx.Response:
        return self.http.post(self.url, params=params, content=body)

    def reply(self, response: httpx.Response) -> dict[str, Any] | None:
        """The passive reply as a dict; None for 'success' or an empty answer."""
        assert response.status_code == 200, response.text
        if response.text in {"success", ""}:
            return None
        xml = response.text
        if self.crypto is not None:
            sealed = xmltodict.parse(xml)["xml"]
            xml = self.crypto.decrypt_message(
                xml, sealed["MsgSignature"], sealed["TimeStamp"], sealed["Nonce"]
            )
        reply: dict[str, Any] = xmltodict.parse(xml)["xml"]
        return reply

    def say(self, xml: str, **kwargs: Any) -> str | None:
        reply = self.reply(self.post(xml, **kwargs))
        return None if reply is None else str(reply["Content"])

    def close(self) -> None:
        self.http.close()
