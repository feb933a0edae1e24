"""Read one multipart upload with a hard size limit, before anything is spooled to disk.

FastAPI's ``UploadFile`` parameters read the whole body first; this reads the request through a
``receive`` that stops at the limit, so an oversized upload costs at most the limit.
"""

from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message, Receive

from desk.errors import InvalidInput
from desk.uploads.service import too_large

MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and the small form fields


@dataclass(frozen=True)
class Upload:
    fields: dict[str, str]
    filename: str | None
    content: bytes


def _limited(receive: Receive, limit: int, max_bytes: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(max_bytes)
        return message

    return wrapped


async def read_upload(request: Request, *, max_bytes: int, file_field: str = "file") -> Upload:
    limit = max_bytes + MULTIPART_OVERHEAD
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(max_bytes)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInput("请以 multipart/form-data 表单上传文件。", code="multipart_required")
    limited = Request(request.scope, _limited(request.receive, limit, max_bytes))
    async with limited.form(max_files=1, max_fields=8) as form:
        upload = form.get(file_field)
        if not isinstance(upload, UploadFile):
            raise InvalidInput("请选择要上传的文件。", code="file_required")
        content = await upload.read(max_bytes + 1)
        if len(content) > max_bytes:
            raise too_large(max_bytes)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        return Upload(fields=fields, filename=upload.filename, content=content)
