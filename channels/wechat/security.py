"""Is a callback WeChat's? Check its signature and age, open its envelope, seal the answer.

Signatures are wechatpy's (SHA-1 over the sorted token, timestamp, nonce [, Encrypt]) and the
AES envelope is wechatpy's ``PrpCrypto``; the comparison is constant-time and a callback older
(or newer) than ``max_skew_s`` is a replay, two things wechatpy itself does not check.

Plain mode signs only timestamp and nonce, not the body: with an EncodingAESKey configured the
endpoint accepts safe-mode (AES) callbacks only.
"""

import base64
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass

import xmltodict
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.utils import WeChatSigner

MAX_BODY_BYTES = 64 * 1024


class Rejected(Exception):
    """A callback that is not processed: 403 (not WeChat's, or a replay) or 400 (unreadable)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signature(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def check_signature(given: str | None, token: str, *parts: str) -> None:
    if not given:
        raise Rejected(403, "missing signature")
    expected = signature(token, *parts)
    if not hmac.compare_digest(given.encode("ascii", "replace"), expected.encode()):
        raise Rejected(403, "bad signature")


def check_fresh(timestamp: str | None, *, max_skew_s: int, now: float | None = None) -> None:
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
        raise Rejected(403, "missing timestamp")
    skew = abs((time.time() if now is None else now) - int(timestamp))
    if skew > max_skew_s:
        raise Rejected(403, "stale timestamp")


def refuse_doctype(xml: str) -> None:
    """No DTDs: entity expansion and external entities have no place in WeChat's XML."""
    head = xml.upper()
    if "<!DOCTYPE" in head or "<!ENTITY" in head:
        raise Rejected(400, "xml with a document type")


@dataclass(frozen=True)
class Envelope:
    token: str
    app_id: str | None = None
    aes_key: str | None = None  # EncodingAESKey: safe mode
    max_skew_s: int = 300

    @property
    def safe(self) -> bool:
        return self.aes_key is not None

    def verify_url(self, params: Mapping[str, str]) -> str:
        """WeChat's URL check (GET): the echostr, when the signature is right."""
        timestamp, nonce = params.get("timestamp"), params.get("nonce", "")
        check_signature(params.get("signature"), self.token, timestamp or "", nonce)
        check_fresh(timestamp, max_skew_s=self.max_skew_s)
        return params.get("echostr", "")

    def open(self, params: Mapping[str, str], body: bytes) -> str:
        """The callback's message XML, once signature, age and (safe mode) AES check out."""
        if len(body) > MAX_BODY_BYTES:
            raise Rejected(400, "body too large")
        timestamp, nonce = params.get("timestamp"), params.get("nonce", "")
        check_signature(params.get("signature"), self.token, timestamp or "", nonce)
        check_fresh(timestamp, max_skew_s=self.max_skew_s)
        try:
            xml = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Rejected(400, "not utf-8") from exc
        refuse_doctype(xml)
        if not self.safe:
            if params.get("encrypt_type", "raw") not in {"", "raw"}:
                raise Rejected(400, "safe mode is not configured")
            return xml
        if params.get("encrypt_type") != "aes":
            raise Rejected(403, "plain callback while safe mode is configured")
        encrypted = self._encrypted_part(xml)
        check_signature(params.get("msg_signature"), self.token, timestamp or "", nonce, encrypted)
        try:
            plain = PrpCrypto(self._key()).decrypt(encrypted, self.app_id)
        except Exception as exc:  # bad base64, padding, length, AppID: all the same to us
            raise Rejected(400, "undecryptable") from exc
        refuse_doctype(plain)
        return str(plain)

    def seal(self, xml: str, nonce: str) -> str:
        """The passive reply, encrypted and signed in safe mode."""
        if not self.safe:
            return xml
        assert self.aes_key is not None and self.app_id is not None
        crypto = WeChatCrypto(self.token, self.aes_key, self.app_id)
        return str(crypto.encrypt_message(xml, nonce or "qclinic"))

    def _key(self) -> bytes:
        assert self.aes_key is not None
        return base64.b64decode(self.aes_key + "=")

    @staticmethod
    def _encrypted_part(xml: str) -> str:
        try:
            root = xmltodict.parse(xml, disable_entities=True)["xml"]
            encrypted = root["Encrypt"]
        except Exception as exc:
            raise Rejected(400, "malformed xml") from exc
        if not isinstance(encrypted, str) or not encrypted:
            raise Rejected(400, "malformed xml")
        return encrypted
