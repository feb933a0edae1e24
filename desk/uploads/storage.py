"""Files under the upload folder with random names; written whole or not at all."""

import os
import secrets
from pathlib import Path


def new_storage_name() -> str:
    """A random relative name, sharded by its first two characters: ``ab/ab12…``."""
    token = secrets.token_hex(16)
    return f"{token[:2]}/{token}"


def resolve(root: Path, storage_name: str) -> Path:
    """The absolute path of ``storage_name`` under ``root``; refuses anything that escapes it."""
    root = root.resolve()
    path = (root / storage_name).resolve()
    if root not in path.parents:
        raise ValueError("storage name outside the upload folder")
    return path


def write(root: Path, storage_name: str, content: bytes) -> Path:
    path = resolve(root, storage_name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def remove(root: Path, storage_name: str) -> None:
    resolve(root, storage_name).unlink(missing_ok=True)
