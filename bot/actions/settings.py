"""Settings of the action server, from QCLINIC_* environment variables."""

from functools import lru_cache

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "token", "xxx"}


class ActionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QCLINIC_", extra="ignore")

    desk_url: str = "http://127.0.0.1:8000"
    service_token: SecretStr
    desk_timeout_s: float = 5
    # the desk answered 503 (its database away, a restart): the same request again, with
    # backoff, for up to this long (writes only with their idempotency key)
    desk_retry_s: float = 8

    @field_validator("service_token")
    @classmethod
    def _real_token(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value().strip().lower() in _PLACEHOLDERS:
            raise ValueError("QCLINIC_SERVICE_TOKEN must be set to the desk's service token")
        return value

    @field_validator("desk_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


@lru_cache(maxsize=1)
def get_settings() -> ActionSettings:
    """The settings, read once from the environment on first use."""
    return ActionSettings()  # type: ignore[call-arg]  # service_token comes from the env
