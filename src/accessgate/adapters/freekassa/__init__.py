"""FreeKassa (SCI): the payment form URL and its MD5-signed notification."""

from accessgate.adapters.freekassa.gateway import FreeKassaGateway

__all__ = ["FreeKassaGateway"]
