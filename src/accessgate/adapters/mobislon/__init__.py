"""MobiSlon (Binom) postback adapter: a TrackingSink over httpx."""

from accessgate.adapters.mobislon.sink import MobislonPostbackSink, PostbackTemplate

__all__ = ["MobislonPostbackSink", "PostbackTemplate"]
