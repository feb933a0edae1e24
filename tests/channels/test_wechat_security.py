"""Signatures and the AES envelope on fixed vectors, each with a twin that changes one character.

The safe-mode vector is the one of WeChat's own sample code (WXBizMsgCrypt): token
``spamtest``, EncodingAESKey ``abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG``, AppID
``wx2c2769f8efd9abc2``.
"""

import pytest
import xmltodict
from wechatpy.crypto import WeChatCrypto

from channels.wechat.inbound import parse
from channels.wechat.security import (
    Envelope,
    Rejected,
    check_fresh,
    check_signature,
    signature,
)

TOKEN = "spamtest"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx2c2769f8efd9abc2"
TIMESTAMP = "1409735669"
NONCE = "1320562132"
ENCRYPTED = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8"
    "PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa"
    "+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8"
    "tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9F"
    "yJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)
MSG_SIGNATURE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
URL_SIGNATURE = "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a"  # sha1 of the sorted three
BODY = f"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt><![CDATA[{ENCRYPTED}]]></Encrypt></xml>".encode()  # noqa: E501


def twin(text: str, position: int = -1) -> str:
    """The same text with one character changed."""
    index = position % len(text)
    swapped = "0" if text[index] != "0" else "1"
    return text[:index] + swapped + text[index + 1 :]


def envelope() -> Envelope:
    # The vector is from 2014: freshness is tested apart, so allow any age here.
    return Envelope(token=TOKEN, app_id=APP_ID, aes_key=AES_KEY, max_skew_s=10**10)


def params(**changes: str) -> dict[str, str]:
    base = {
        "timestamp": TIMESTAMP,
        "nonce": NONCE,
        "signature": URL_SIGNATURE,
        "encrypt_type": "aes",
        "msg_signature": MSG_SIGNATURE,
    }
    return {**base, **changes}


def test_signature_vector() -> None:
    assert signature(TOKEN, TIMESTAMP, NONCE) == URL_SIGNATURE
    assert signature(TOKEN, TIMESTAMP, NONCE, ENCRYPTED) == MSG_SIGNATURE
    check_signature(URL_SIGNATURE, TOKEN, TIMESTAMP, NONCE)


@pytest.mark.parametrize("position", [0, 17, -1])
def test_signature_twin_is_refused(position: int) -> None:
    with pytest.raises(Rejected) as error:
        check_signature(twin(URL_SIGNATURE, position), TOKEN, TIMESTAMP, NONCE)
    assert error.value.status == 403


@pytest.mark.parametrize("field", ["timestamp", "nonce", "token"])
def test_signature_over_a_changed_input_is_refused(field: str) -> None:
    values = {"token": TOKEN, "timestamp": TIMESTAMP, "nonce": NONCE}
    values[field] = twin(values[field])
    with pytest.raises(Rejected):
        check_signature(URL_SIGNATURE, values["token"], values["timestamp"], values["nonce"])


def test_missing_or_odd_signature_is_refused() -> None:
    for given in (None, "", "ü" * 40, URL_SIGNATURE.upper()):
        with pytest.raises(Rejected):
            check_signature(given, TOKEN, TIMESTAMP, NONCE)


def test_official_vector_decrypts() -> None:
    xml = envelope().open(params(), BODY)
    message = parse(xml)
    assert (message.source, message.content, message.id) == (
        "oyORnuP8q7ou2gfYjqLzSIWZf0rs",
        "abcdteT",
        6054768590064713728,
    )


def test_official_vector_twins_are_refused() -> None:
    with pytest.raises(Rejected) as bad_msg_signature:
        envelope().open(params(msg_signature=twin(MSG_SIGNATURE)), BODY)
    assert bad_msg_signature.value.status == 403
    with pytest.raises(Rejected) as bad_signature:
        envelope().open(params(signature=twin(URL_SIGNATURE)), BODY)
    assert bad_signature.value.status == 403
    # One character of the ciphertext changed (and signed anew): 400, not processed.
    changed = twin(ENCRYPTED, 100)
    body = BODY.replace(ENCRYPTED.encode(), changed.encode())
    resigned = signature(TOKEN, TIMESTAMP, NONCE, changed)
    with pytest.raises(Rejected) as undecryptable:
        envelope().open(params(msg_signature=resigned), body)
    assert undecryptable.value.status == 400
    # The right key but another AppID inside: refused as undecryptable.
    other = Envelope(token=TOKEN, app_id=twin(APP_ID), aes_key=AES_KEY, max_skew_s=10**10)
    with pytest.raises(Rejected) as wrong_app:
        other.open(params(), BODY)
    assert wrong_app.value.status == 400


def test_freshness() -> None:
    check_fresh("1000", max_skew_s=300, now=1300)
    check_fresh("1600", max_skew_s=300, now=1300)
    for stale in ("999", "1601", "", "12a", "9" * 20):
        with pytest.raises(Rejected) as error:
            check_fresh(stale, max_skew_s=300, now=1300)
        assert error.value.status == 403


def test_sealed_reply_opens_with_wechatpy_and_its_twin_does_not() -> None:
    reply = "<xml><ToUserName><![CDATA[o1]]></ToUserName><Content><![CDATA[你好]]></Content></xml>"
    sealed = envelope().seal(reply, NONCE)
    parts = xmltodict.parse(sealed)["xml"]
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    opened = crypto.decrypt_message(
        sealed, parts["MsgSignature"], parts["TimeStamp"], parts["Nonce"]
    )
    assert opened == reply
    from wechatpy.exceptions import InvalidSignatureException

    with pytest.raises(InvalidSignatureException):
        crypto.decrypt_message(
            sealed, twin(parts["MsgSignature"]), parts["TimeStamp"], parts["Nonce"]
        )


def test_plain_envelope_passes_xml_and_refuses_aes_it_cannot_open() -> None:
    plain = Envelope(token=TOKEN, max_skew_s=10**10)
    xml = "<xml><Content>x</Content></xml>"
    assert (
        plain.open(
            {"timestamp": TIMESTAMP, "nonce": NONCE, "signature": URL_SIGNATURE}, xml.encode()
        )
        == xml
    )
    with pytest.raises(Rejected) as error:
        plain.open(params(), BODY)
    assert error.value.status == 400
    assert plain.seal(xml, NONCE) == xml
