"""Uploads of verification materials: size limit, type by content, storage outside the web root."""

import hashlib
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.settings import AppSettings
from desk.provided import provided
from desk.uploads.settings import MIB, UploadSettings, get_upload_settings

from .staff import staff_headers
from .test_customers import CONVERSATION, JPEG, PDF, PNG, register, upload


def _stored(app_settings: AppSettings) -> list[Path]:
    root = app_settings.var_dir / "uploads"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _documents(client: TestClient, customer_id: int) -> list[dict[str, object]]:
    response = client.get(f"/api/customers/{customer_id}/documents", headers=staff_headers(client))
    return list(response.json())


def test_a_file_is_stored_by_content_under_a_random_name(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    customer_id = register(client, service_headers)["id"]
    response = upload(
        client,
        service_headers,
        customer_id,
        "business_licence",
        PDF,
        filename="C:\\fakepath\\..\\营业执照<1>?.exe",
        content_type="application/octet-stream",
    )
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["media_type"] == "application/pdf" and document["kind_label"] == "营业执照"
    assert document["size"] == len(PDF)
    assert document["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert document["original_name"] == "营业执照1.exe"  # no folders, no reserved characters
    assert document["uploaded_by"] == "bot"

    [path] = _stored(app_settings)
    assert path.read_bytes() == PDF
    assert path.is_relative_to(app_settings.var_dir / "uploads")  # var/, never served
    assert len(path.name) == 32 and "营业执照" not in str(path) and path.suffix == ""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    staff = staff_headers(client)
    content = client.get(
        f"/api/customers/{customer_id}/documents/{document['id']}/content", headers=staff
    )
    assert content.status_code == 200 and content.content == PDF
    assert content.headers["content-type"] == "application/pdf"
    assert content.headers["content-disposition"].startswith("attachment")
    assert content.headers["x-content-type-options"] == "nosniff"
    # the bot lists the metadata of its own customer, but never downloads the files
    listed = client.get(
        f"/api/customers/{customer_id}/documents",
        headers=service_headers,
        params={"conversation_id": CONVERSATION},
    )
    assert [d["id"] for d in listed.json()] == [document["id"]]
    assert (
        client.get(
            f"/api/customers/{customer_id}/documents/{document['id']}/content",
            headers=service_headers,
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("content", "filename", "content_type", "media_type"),
    [
        (PNG, "scan.jpg", "image/jpeg", "image/png"),  # the extension and header are ignored
        (JPEG, "scan.pdf", "application/pdf", "image/jpeg"),
    ],
)
def test_the_type_comes_from_the_content(
    client: TestClient,
    service_headers: dict[str, str],
    content: bytes,
    filename: str,
    content_type: str,
    media_type: str,
) -> None:
    customer_id = register(client, service_headers)["id"]
    response = upload(
        client, service_headers, customer_id, "qualification", content, filename, content_type
    )
    assert response.status_code == 201, response.text
    assert response.json()["media_type"] == media_type


@pytest.mark.parametrize(
    "content",
    [
        b"<html><script>alert(1)</script></html>",
        b"MZ\x90\x00 an executable",
        b"PK\x03\x04 a zip or an office file",
        b" %PDF-1.4 not at the start",
    ],
)
def test_other_types_are_refused_with_415_in_chinese(
    client: TestClient,
    service_headers: dict[str, str],
    app_settings: AppSettings,
    content: bytes,
) -> None:
    customer_id = register(client, service_headers)["id"]
    response = upload(
        client,
        service_headers,
        customer_id,
        "business_licence",
        content,
        "营业执照.pdf",
        "application/pdf",
    )
    assert response.status_code == 415
    assert response.json()["detail"] == {
        "code": "unsupported_file_type",
        "message": "仅支持 PDF、JPEG、PNG 格式的文件（按文件内容识别，与扩展名无关）。",
    }
    assert _stored(app_settings) == [] and _documents(client, customer_id) == []


def test_the_size_limit_is_exact_and_oversized_bodies_are_refused_early(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    customer_id = register(client, service_headers)["id"]
    big = upload(
        client, service_headers, customer_id, "business_licence", PDF + bytes(10 * MIB)
    )  # the default limit is 10 MB
    assert big.status_code == 413
    assert big.json()["detail"] == {
        "code": "file_too_large",
        "message": "文件大小超过上限（10 MB），请压缩后重新上传。",
    }

    provided(client.app)[get_upload_settings] = (  # type: ignore[arg-type]
        lambda: UploadSettings(max_bytes=1000)
    )
    at_limit = PDF + bytes(1000 - len(PDF))
    assert (
        upload(client, service_headers, customer_id, "business_licence", at_limit).status_code
        == 201
    )
    over = upload(client, service_headers, customer_id, "business_licence", at_limit + b"\x00")
    assert over.status_code == 413
    assert over.json()["detail"]["message"] == "文件大小超过上限（1000 字节），请压缩后重新上传。"
    assert len(_stored(app_settings)) == 1 and len(_documents(client, customer_id)) == 1


def test_empty_missing_or_unlabelled_uploads_get_422(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    customer_id = register(client, service_headers)["id"]
    url = f"/api/customers/{customer_id}/documents"
    params = {"conversation_id": CONVERSATION}
    empty = upload(client, service_headers, customer_id, "business_licence", b"")
    assert (empty.status_code, empty.json()["detail"]["code"]) == (422, "file_empty")
    no_file = client.post(
        url,
        headers=service_headers,
        params=params,
        data={"kind": "business_licence"},
        files={"other": ("a", b"x")},
    )
    assert (no_file.status_code, no_file.json()["detail"]["code"]) == (422, "file_required")
    bad_kind = upload(client, service_headers, customer_id, "passport")
    assert bad_kind.status_code == 422
    assert bad_kind.json()["detail"]["message"].startswith("材料类型应为：营业执照、资质证书")
    as_json = client.post(url, headers=service_headers, params=params, json={"kind": "x"})
    assert (as_json.status_code, as_json.json()["detail"]["code"]) == (422, "multipart_required")


def test_uploads_only_for_the_customer_of_the_conversation(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    customer_id = register(client, service_headers)["id"]
    stranger = upload(
        client, service_headers, customer_id, "business_licence", conversation_id="web:someone-else"
    )
    assert stranger.status_code == 404
    expert = staff_headers(client, role="expert")
    assert upload(client, expert, customer_id, "business_licence").status_code == 403
    assert upload(client, {}, customer_id, "business_licence").status_code == 401
    assert _stored(app_settings) == []
    # staff upload materials brought to a service station
    staff = staff_headers(client, role="admin")
    assert (
        upload(
            client,
            staff,
            customer_id,
            "integrity_pledge",
            conversation_id=None,
        ).status_code
        == 201
    )


def test_a_chunked_upload_without_a_length_is_cut_off_at_the_limit(
    client: TestClient, service_headers: dict[str, str], app_settings: AppSettings
) -> None:
    customer_id = register(client, service_headers)["id"]
    provided(client.app)[get_upload_settings] = (  # type: ignore[arg-type]
        lambda: UploadSettings(max_bytes=1000)
    )
    boundary = "qclinic-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n'
        f"business_licence\r\n--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    body = head + PDF + bytes(200 * 1024) + f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding chunked
        for start in range(0, len(body), 16 * 1024):
            yield body[start : start + 16 * 1024]

    response = client.post(
        f"/api/customers/{customer_id}/documents",
        content=chunks(),
        params={"conversation_id": CONVERSATION},
        headers={**service_headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert response.json()["detail"]["code"] == "file_too_large"
    assert _stored(app_settings) == [] and _documents(client, customer_id) == []
