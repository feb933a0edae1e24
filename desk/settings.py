"""Settings of the app process (environment variables, DESIGN §4)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from desk.paths import DEFAULT_VAR_DIR
from desk.secrets import read_or_create_secret

_PLACEHOLDERS = {"changeme", "change-me", "secret", "token", "password"}


class AppSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QCLINIC_", extra="ignore")

    var_dir: Path = DEFAULT_VAR_DIR
    host: str = "127.0.0.1"
    port: int = 8000
    rasa_port: int = 5005
    actions_port: int = 5055
    rasa_token: SecretStr | None = None
    service_token: SecretStr | None = None
    database_url: str | None = None
    redis_url: str | None = None
    rasa_timeout_s: float = Field(default=20.0, gt=0)
    warm_up: bool = False  # load the retrieval model at start (the launcher turns it on)
    admin_user: str = "admin"
    admin_password: SecretStr | None = None

    @model_validator(mode="after")
    def _fill_generated(self) -> "AppSettings":
        for name in ("rasa_token", "service_token"):
            value: SecretStr | None = getattr(self, name)
            if value is not None and value.get_secret_value().lower() in _PLACEHOLDERS:
                raise ValueError(f"QCLINIC_{name.upper()} is a placeholder; set a real secret")
            if value is None:
                secret = read_or_create_secret(self.var_dir / "secrets" / name)
                setattr(self, name, SecretStr(secret))
        if self.database_url is None:
            self.database_url = f"sqlite:///{self.var_dir / 'qclinic.db'}"
        return self

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def desk_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def secret(self, name: str) -> str:
        value: SecretStr | None = getattr(self, name)
        assert value is not None  # filled by the validator
        return value.get_secret_value()


@lru_cache
def get_settings() -> AppSettings:
    return AppSettings()
