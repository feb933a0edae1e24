"""FastAPI dependencies of the channels' routes (the app points them at its settings)."""

from typing import Annotated

from fastapi import Depends

from channels.settings import ChannelSettings, get_channel_settings
from desk.provided import from_app

ChannelSettingsDep = Annotated[ChannelSettings, Depends(from_app(get_channel_settings))]
