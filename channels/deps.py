"""FastAPI dependencies of the channels' routes (the app points them at its settings)."""

from typing import Annotated

from fastapi import Depends

from channels.settings import ChannelSettings, get_channel_settings

ChannelSettingsDep = Annotated[ChannelSettings, Depends(get_channel_settings)]
