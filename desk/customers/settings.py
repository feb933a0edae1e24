"""Settings of customer data (QCLINIC_REQUIRE_CONSENT)."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class PrivacySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QCLINIC_", extra="ignore")

    # refuse contact details from a conversation without a recorded consent to the privacy
    # notice (PIPL); the bot shows the notice and records the answer before it asks for them
    require_consent: bool = True


@lru_cache
def get_privacy_settings() -> PrivacySettings:
    return PrivacySettings()
