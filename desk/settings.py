"""Settings of the desk: where state lives, the database, the first admin, the bot's token."""

from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from desk.paths import DEFAULT_VAR_DIR
from desk.secrets import read_or_create_secret

PLACEHOLDERS = frozenset({"changeme", "change-me", "secret", "token", "password"})


def fill_secret(settings: BaseSettings, name: str, var_dir: Path) -> None:
    """Refuse a placeholder; generate the secret once under var/secrets/ when it is unset."""
    value: SecretStr | None = getattr(settings, name)
    if value is not None and value.get_secret_value().lower() in PLACEHOLDERS:
        raise ValueError(f"QCLINIC_{name.upper()} is a placeholder; set a real secret")
    if value is None:
        setattr(settings, name, SecretStr(read_or_create_secret(var_dir / "secrets" / name)))


class DeskSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QCLINIC_", extra="ignore")

    var_dir: Path = DEFAULT_VAR_DIR
    host: str = "127.0.0.1"
    port: int = 8000
    service_token: SecretStr | None = None  # the bot's token for the desk API
    database_url: str | None = None
    redis_url: str | None = None
    admin_user: str = "admin"
    admin_password: SecretStr | None = None

    @model_validator(mode="after")
    def _fill_desk(self) -> "DeskSettings":
        fill_secret(self, "service_token", self.var_dir)
        if self.database_url is None:
            self.database_url = f"sqlite:///{self.var_dir / 'qclinic.db'}"
        return self

    @property
    def desk_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def secret(self, name: str) -> str:
        value: SecretStr | None = getattr(self, name)
        assert value is not None  # filled by the validators
        return value.get_secret_value()


@lru_cache
def get_settings() -> DeskSettings:
    return DeskSettings()
