"""Chat uploads of registration materials: the web chat's upload endpoint (limits, types, the
bot told, stored once) and WeChat images and files fetched through media/get with encrypted
callbacks, both landing as the conversation's customer's documents."""

import json
import secrets
from collections.abc import Iterator

import httpx
import pytest

from channels.chat_uploads import UNLINKED
from channels.wechat import inbound
from desk.customers.models import Customer
from desk.uploads.models import Document
from desk.uploads.settings import get_upload_settings
from tests.channels.conftest import Live, LiveFactory
from tests.channels.servers import wait_until
from tests.channels.test_case_notices import follower, staff
from tests.channels.wechat_calls import message_xml

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64) + b"\xff\xd9"
GIF = b"GIF89a" + bytes(40)


@pytest.fixture(autouse=True)
def _small_uploads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("QCLINIC_UPLOAD_MAX_BYTES", str(4096))
    get_upload_settings.cache_clear()
    yield
    get_upload_settings.cache_clear()


def register(app: Live, conversation_id: str) -> int:
    """The customer the bot creates for the conversation (after the privacy notice's consent)."""
    bot = {"Authorization": f"Bearer {app.settings.secret('service_token')}"}
    consent = {"conversation_id": conversation_id, "notice_version": "v1", "agreed": True}
    assert (
        httpx.post(f"{app.url}/api/consents", json=consent, headers=bot, timeout=30).status_code
        == 201
    )
    body = {
        "kind": "enterprise",
        "name": "江阴远澄线缆有限公司",
        "conversation_id": conversation_id,
        "contact_name": "张伟",
        "mobile": "13912345678",
        "credit_code": "91320281MA1W6XKQ0T",
    }
    response = httpx.post(f"{app.url}/api/customers", json=body, headers=bot, timeout=30)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def post_upload(
    app: Live, conversation_id: str, content: bytes, name: str, message_id: str | None = None
) -> httpx.Response:
    data = {"conversation_id": conversation_id}
    if message_id:
        data["message_id"] = message_id
    return httpx.post(
        f"{app.url}/api/chat/uploads",
        data=data,
        files={"file": (name, content, "application/octet-stream")},
        timeout=30,
    )


def documents(app: Live, customer_id: int) -> list[Document]:
    return app.rows(Document, customer_id=customer_id)


def test_web_upload_is_stored_for_the_customer_and_announced_to_the_bot(live: LiveFactory) -> None:
    app = live()
    conversation = "web:upload-" + secrets.token_hex(4)
    # before registration there is nobody to attach the file to
    early = post_upload(app, conversation, PDF, "营业执照.pdf")
    assert early.status_code == 409
    assert early.json()["detail"]["message"] == UNLINKED
    assert app.rasa.calls == []
    customer_id = register(app, conversation)

    response = post_upload(app, conversation, PDF, "营业执照.pdf", message_id="up-000001")
    assert response.status_code == 200, response.text
    body = response.json()
    [document] = documents(app, customer_id)
    assert (document.kind, document.media_type, document.original_name) == (
        "other",
        "application/pdf",
        "营业执照.pdf",
    )
    assert body["document"]["id"] == document.id
    announced = f"/upload_document{json.dumps({'document_id': str(document.id)})}"
    assert app.rasa.messages(conversation) == [announced]
    assert [m["text"] for m in body["messages"]] == [f"收到：{announced}"]
    assert app.transcript(conversation)[0] == ("user", "[上传材料] 营业执照.pdf")

    # the page sends the same upload again after a network drop: stored once, one bot turn
    again = post_upload(app, conversation, PDF, "营业执照.pdf", message_id="up-000001")
    assert again.status_code == 200 and again.json()["document"]["id"] == document.id
    assert len(documents(app, customer_id)) == 1
    assert app.rasa.messages(conversation) == [announced]


def test_web_upload_limits_are_413_415_and_422_in_chinese(live: LiveFactory) -> None:
    app = live()
    conversation = "web:limits-" + secrets.token_hex(4)
    customer_id = register(app, conversation)
    too_big = post_upload(app, conversation, b"%PDF-" + bytes(5000), "扫描件.pdf")
    assert too_big.status_code == 413
    assert "文件大小超过上限" in too_big.json()["detail"]["message"]
    wrong = post_upload(app, conversation, GIF, "执照.pdf")  # named .pdf, a GIF by content
    assert wrong.status_code == 415
    assert "仅支持 PDF、JPEG、PNG" in wrong.json()["detail"]["message"]
    empty = post_upload(app, conversation, b"", "空.pdf")
    assert empty.status_code == 422
    bad_id = post_upload(app, "web:x", PDF, "a.pdf")
    assert bad_id.status_code == 422 and "会话编号" in bad_id.json()["detail"]["message"]
    assert documents(app, customer_id) == []
    assert app.rasa.calls == []


def image_xml(openid: str, media_id: str, msg_id: int) -> str:
    return message_xml(
        openid, "image", PicUrl="http://mmbiz.example/pic", MediaId=media_id, msg_id=msg_id
    )


def test_wechat_image_of_a_registering_customer_is_fetched_stored_and_announced(
    live_any_db: LiveFactory,
) -> None:
    app = live_any_db(safe=True, wechat_reply_deadline_s=4.0)  # encrypted callbacks
    user = "o" + secrets.token_hex(10)
    conversation = inbound.conversation_id(user)
    customer_id = register(app, conversation)
    app.wechat.media["MEDIA-LICENCE"] = (JPEG, "image/jpeg", "licence.jpg")
    msg_id = 8800000000 + secrets.randbelow(10**6)

    reply = app.platform.say(image_xml(user, "MEDIA-LICENCE", msg_id))
    [document] = documents(app, customer_id)
    assert (document.kind, document.media_type, document.uploaded_by) == (
        "other",
        "image/jpeg",
        "wechat",
    )
    announced = f"/upload_document{json.dumps({'document_id': str(document.id)})}"
    assert reply == f"收到：{announced}"
    assert app.rasa.messages(conversation) == [announced]
    assert app.wechat.media_fetched == ["MEDIA-LICENCE"]
    assert app.transcript(conversation)[0] == ("user", "[图片] licence.jpg")

    # WeChat retries the same message: one document, one bot turn
    app.platform.post(image_xml(user, "MEDIA-LICENCE", msg_id))
    assert len(documents(app, customer_id)) == 1
    assert app.rasa.messages(conversation) == [announced]
    assert app.wechat.media_fetched == ["MEDIA-LICENCE"]  # not downloaded again

    # a file message (PDF) is stored under its title
    app.wechat.media["MEDIA-PLEDGE"] = (PDF, "application/pdf", "pledge.pdf")
    xml = message_xml(
        user, "file", Title="诚信承诺书.pdf", MediaId="MEDIA-PLEDGE", FileTotalLen=len(PDF)
    )
    app.platform.post(xml)
    wait_until(lambda: len(documents(app, customer_id)) == 2)
    assert documents(app, customer_id)[1].original_name == "诚信承诺书.pdf"


def test_wechat_media_refusals_and_strangers(live: LiveFactory) -> None:
    app = live(safe=True)
    # a follower who is not registering: the usual acknowledgement, nothing fetched or stored
    stranger = "o" + secrets.token_hex(10)
    app.wechat.media["MEDIA-X"] = (JPEG, "image/jpeg", "x.jpg")
    assert app.platform.say(image_xml(stranger, "MEDIA-X", 7700000001)) == inbound.IMAGE_ACK
    assert app.wechat.media_fetched == [] and app.rows(Customer) == []

    user = "o" + secrets.token_hex(10)
    conversation = inbound.conversation_id(user)
    customer_id = register(app, conversation)
    app.wechat.media["MEDIA-GIF"] = (GIF, "image/gif", "x.gif")
    refused = app.platform.say(image_xml(user, "MEDIA-GIF", 7700000002))
    assert refused is not None and "仅支持 PDF、JPEG、PNG" in refused
    app.wechat.media["MEDIA-BIG"] = (b"\xff\xd8\xff" + bytes(5000), "image/jpeg", "big.jpg")
    too_big = app.platform.say(image_xml(user, "MEDIA-BIG", 7700000003))
    assert too_big is not None and "文件大小超过上限" in too_big
    gone = app.platform.say(image_xml(user, "MEDIA-EXPIRED", 7700000004))  # 40007 from WeChat
    assert gone is not None and "没能取到您发送的文件" in gone
    assert documents(app, customer_id) == []
    assert app.rasa.messages(conversation) == []


def test_a_wechat_applicant_is_told_the_review_result_in_wechat(live: LiveFactory) -> None:
    """The result of a review submitted from WeChat reaches the follower as a customer-service
    message (inside the 48-hour window), with the reason and what to upload again."""
    app = live(safe=True)
    user, conversation = follower(app)
    customer_id = register(app, conversation)
    bot = {"Authorization": f"Bearer {app.settings.secret('service_token')}"}
    for kind in ("business_licence", "qualification", "integrity_pledge"):
        uploaded = httpx.post(
            f"{app.url}/api/customers/{customer_id}/documents",
            headers=bot,
            params={"conversation_id": conversation},
            data={"kind": kind},
            files={"file": (f"{kind}.pdf", PDF, "application/pdf")},
        )
        assert uploaded.status_code == 201, uploaded.text
    review = httpx.post(
        f"{app.url}/api/customers/{customer_id}/verification",
        headers=bot,
        params={"conversation_id": conversation},
        json={},
    ).json()
    decided = httpx.post(
        f"{app.url}/api/customers/reviews/{review['id']}/decision",
        headers=staff(app),
        json={
            "decision": "rejected",
            "reason": "营业执照模糊不清",
            "missing_documents": ["business_licence"],
        },
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["notice_how"] == "wechat_message"
    words = (
        "【质量门诊】很抱歉，您的注册申请（江阴远澄线缆有限公司）未通过审核。原因：营业执照模糊不清。"
        "需补充：营业执照。请回复“补充资料”，按提示上传后重新提交审核。"
    )
    wait_until(lambda: words in app.wechat.texts(user))
    assert app.wechat.texts(user).count(words) == 1
    assert ("system", words) in app.transcript(conversation)
