"""What a file is, from its first bytes (magic numbers); never from its name or content-type."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FileType:
    media_type: str
    extension: str
    label: str


PDF = FileType("application/pdf", ".pdf", "PDF")
JPEG = FileType("image/jpeg", ".jpg", "JPEG")
PNG = FileType("image/png", ".png", "PNG")
ALLOWED: tuple[FileType, ...] = (PDF, JPEG, PNG)

_SIGNATURES: tuple[tuple[bytes, FileType], ...] = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
)


def sniff(content: bytes) -> FileType | None:
    """The allowed type ``content`` starts as, or None (strictly at offset 0: no polyglots)."""
    for magic, file_type in _SIGNATURES:
        if content.startswith(magic):
            return file_type
    return None
