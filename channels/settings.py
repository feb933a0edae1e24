"""Settings of the channels: the Rasa server they talk to, reply deadlines, retries.

The channels sit on the desk (its database, its var/ folder) and own the WeChat channel, so their
settings are the desk's plus their own.
"""

from functools import lru_cache

from pydantic import Field, SecretStr, model_validator

from channels.wechat.settings import WeChatSettings
from desk.escalations.settings import ConsultationSettings
from desk.settings import DeskSettings, fill_secret


class ChannelSettings(WeChatSettings, DeskSettings):
    rasa_port: int = 5005
    actions_port: int = 5055
    rasa_token: SecretStr | None = None
    # Several Rasa servers sharing the tracker and lock stores (scale-out, docs/deploy.md):
    # comma-separated base URLs; unset: the one on 127.0.0.1:QCLINIC_RASA_PORT.
    rasa_urls: str | None = None
    rasa_timeout_s: float = Field(default=20.0, gt=0)
    # The web chat waits this long for the bot, then delivers by SSE.
    web_reply_deadline_s: float = Field(default=15.0, gt=0)
    chat_stream_poll_s: float = Field(default=2.0, gt=0)  # SSE re-check without a wake-up
    retry_interval_s: float = Field(default=3.0, gt=0)  # pending user messages, outbox
    # After a timed-out turn, wait this long before looking it up in Rasa's tracker (it may
    # still be running there) and sending it again only if Rasa never took it.
    turn_settle_s: float = Field(default=60.0, gt=0)
    background_workers: bool = True
    # incoming chat messages per minute (channels/rate_limits.py; 0 = off): one conversation or
    # WeChat follower, and one client address (a park behind one NAT address stays below it)
    rate_limit_per_conversation: int = Field(default=30, ge=0)
    rate_limit_per_address: int = Field(default=600, ge=0)
    # Template messages (模板消息) for followers outside the 48-hour window, beside
    # QCLINIC_WECHAT_TEMPLATE_CASE (status changes): the invitation to evaluate a completed demand
    # and a complaint's outcome. Fields as that one: keyword1 the number, keyword2 the news,
    # keyword3 the time, first and remark. Unset: the notice is kept for the next contact.
    wechat_template_evaluation: str | None = None
    wechat_template_complaint: str | None = None
    # PIPL Art. 19: transcripts, the bot's tracker and the contact details of closed cases keep
    # personal data this many days (docs/deploy.md, 个人信息保护); at least 1, keeping forever
    # is not an option. The purge runs once a day on one replica; each replica checks every
    # retention_check_s whether it is due.
    retention_days: int = Field(default=365, ge=1, le=3650)
    retention_check_s: float = Field(default=600.0, gt=0)
    # the enterprise's side of a handoff (QCLINIC_CONSULT_*): holding notes, timers, sweep
    consultation: ConsultationSettings = Field(default_factory=ConsultationSettings, exclude=True)

    @model_validator(mode="after")
    def _fill_rasa_token(self) -> "ChannelSettings":
        fill_secret(self, "rasa_token", self.var_dir)
        return self

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def rasa_servers(self) -> list[str]:
        """Every Rasa server the app may send a turn to (channels/gateway.py fails over)."""
        urls = [u.strip().rstrip("/") for u in (self.rasa_urls or "").split(",") if u.strip()]
        return urls or [self.rasa_url]

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"


@lru_cache
def get_channel_settings() -> ChannelSettings:
    return ChannelSettings()
