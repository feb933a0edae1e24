"""Secrets that are generated once and kept under var/ when not given by the environment."""

import os
import secrets
from pathlib import Path


def read_or_create_secret(path: Path, *, nbytes: int = 24) -> str:
    """Return the secret stored at ``path``, creating it (mode 0600) on first use."""
    if path.exists():
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value)
    try:
        os.link(tmp, path)  # first writer wins when two processes race
    except FileExistsError:
        tmp.unlink()
        return path.read_text(encoding="utf-8").strip()
    tmp.unlink()
    return value
