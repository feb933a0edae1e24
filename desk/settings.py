"""Settings of the app process (environment variables, DESIGN §4)."""

import base64
import binascii
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

    # Channels (issue 6). The web chat waits this long for the bot, then delivers by SSE.
    web_reply_deadline_s: float = Field(default=15.0, gt=0)
    chat_stream_poll_s: float = Field(default=2.0, gt=0)  # SSE re-check without a wake-up
    retry_interval_s: float = Field(default=3.0, gt=0)  # pending user messages, outbox
    # After a timed-out turn, wait this long before looking it up in Rasa's tracker (it may
    # still be running there) and sending it again only if Rasa never took it.
    turn_settle_s: float = Field(default=60.0, gt=0)
    background_workers: bool = True

    # WeChat Official Account (DESIGN §4): the channel is off while the token is unset.
    wechat_token: SecretStr | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None  # EncodingAESKey (43 characters): safe mode
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_reply_deadline_s: float = Field(default=4.5, gt=0, lt=5)  # WeChat waits 5 s
    wechat_max_clock_skew_s: int = Field(default=300, gt=0)  # older callbacks are replays
    wechat_api_timeout_s: float = Field(default=5.0, gt=0)
    wechat_cs_quota: int = Field(default=5, ge=1)  # customer-service messages per window
    wechat_cs_window_h: float = Field(default=48.0, gt=0)

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
        self._check_wechat()
        return self

    def _check_wechat(self) -> None:
        token = self.wechat_token.get_secret_value() if self.wechat_token else None
        if token is not None and token.lower() in _PLACEHOLDERS:
            raise ValueError("QCLINIC_WECHAT_TOKEN is a placeholder; set a real token")
        if self.wechat_aes_key is not None:
            key = self.wechat_aes_key.get_secret_value()
            try:
                decoded = base64.b64decode(key + "=", validate=True)
            except binascii.Error:
                decoded = b""
            if len(key) != 43 or len(decoded) != 32:
                raise ValueError("QCLINIC_WECHAT_AES_KEY must be the 43-character EncodingAESKey")
            if not self.wechat_app_id:
                raise ValueError("QCLINIC_WECHAT_APP_ID is needed for safe (AES) mode")

    @property
    def wechat_enabled(self) -> bool:
        return self.wechat_token is not None

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

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
