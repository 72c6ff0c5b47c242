"""The YooKassa adapter of the PaymentGateway port (API v3 over httpx).

The gateway is imported lazily: the plug-in (``.plugin``) loads without httpx,
so a missing extra is reported when YooKassa is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accessgate.adapters.yookassa.gateway import YooKassaGateway

__all__ = ["YooKassaGateway"]


def __getattr__(name: str) -> Any:
    if name == "YooKassaGateway":
        from accessgate.adapters.yookassa.gateway import YooKassaGateway

        return YooKassaGateway
    raise AttributeError(name)
