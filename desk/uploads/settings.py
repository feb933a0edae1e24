"""Settings of uploads (QCLINIC_UPLOAD_DIR, QCLINIC_UPLOAD_MAX_BYTES)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class UploadSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QCLINIC_UPLOAD_", extra="ignore")

    dir: Path | None = None  # default: <var_dir>/uploads, outside any served folder
    max_bytes: int = Field(default=10 * MIB, gt=0)


@lru_cache
def get_upload_settings() -> UploadSettings:
    return UploadSettings()
