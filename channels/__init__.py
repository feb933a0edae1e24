"""Channels (web chat, WeChat) and the gateway that owns conversations."""
