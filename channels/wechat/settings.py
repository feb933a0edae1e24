"""Settings of the WeChat Official Account channel (DESIGN §4): off while the token is unset."""

import base64
import binascii

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from desk.settings import PLACEHOLDERS


class WeChatSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QCLINIC_", extra="ignore")

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
    # Template message (模板消息) an expert's reply may go by once the window is closed: the
    # id of a template with the fields keyword1 (the reply), keyword2 (time), and first and
    # remark for accounts that still show them. Unset: no templates.
    wechat_template_reply: str | None = None
    # Template message that tells a follower outside the window that a demand or complaint moved
    # on: keyword1 the number, keyword2 the new status, keyword3 the time (first and remark for
    # accounts that still show them). Unset: such followers are told at their next contact.
    wechat_template_case: str | None = None

    @model_validator(mode="after")
    def _check_wechat(self) -> "WeChatSettings":
        token = self.wechat_token.get_secret_value() if self.wechat_token else None
        if token is not None and token.lower() in PLACEHOLDERS:
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
        return self

    @property
    def wechat_enabled(self) -> bool:
        return self.wechat_token is not None
