"""Settings of the enterprise's side of a consultation: how long before the offer widens, the
enterprise is told nobody has claimed it, or a silent consultation returns to the bot."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsultationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QCLINIC_CONSULT_", extra="ignore")

    # a waiting escalation offered to its domain's experts goes to every expert after this
    offer_widen_after_s: float = Field(default=120.0, gt=0)
    # unclaimed this long: the enterprise is told and offered to leave a demand
    claim_timeout_s: float = Field(default=600.0, gt=0)
    # a claimed consultation with no message from either side returns to the bot (WeChat's rule)
    idle_timeout_s: float = Field(default=1800.0, gt=0)
    # the holding note with place and wait is repeated in full at most this often
    holding_repeat_s: float = Field(default=60.0, ge=0)
    sweep_interval_s: float = Field(default=15.0, gt=0)  # how often the timers are checked


@lru_cache
def get_consultation_settings() -> ConsultationSettings:
    return ConsultationSettings()
