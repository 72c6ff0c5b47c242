"""Meta Conversions API adapter: a TrackingSink over httpx."""

from accessgate.adapters.meta.sink import MetaConversionsSink

__all__ = ["MetaConversionsSink"]
