"""The app's settings, composed from the settings class each area owns (DESIGN §4).

Desk, channels and WeChat are one flat set of QCLINIC_* variables (``AppSettings`` inherits their
classes); privacy, uploads and retrieval keep their own classes and caches, and the app hands the
same objects to every route through dependency overrides.
"""

from functools import lru_cache

from pydantic import Field

from channels.settings import ChannelSettings
from desk.customers.settings import PrivacySettings
from desk.uploads.settings import UploadSettings
from retrieval.settings import RetrievalSettings


class AppSettings(ChannelSettings):
    warm_up: bool = False  # load the retrieval model at start (the launcher turns it on)
    # JSON and form request bodies at most this large (app/body_limits.py; uploads have their own)
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings, exclude=True)
    uploads: UploadSettings = Field(default_factory=UploadSettings, exclude=True)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, exclude=True)


@lru_cache
def get_settings() -> AppSettings:
    return AppSettings()
