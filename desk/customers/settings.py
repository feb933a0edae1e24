"""Settings of customer data (QCLINIC_REQUIRE_CONSENT)."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class PrivacySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QCLINIC_", extra="ignore")

    # refuse contact details from a conversation without a recorded consent to the privacy
    # notice; off until the bot asks for consent, then on by default
    require_consent: bool = False


@lru_cache
def get_privacy_settings() -> PrivacySettings:
    return PrivacySettings()
