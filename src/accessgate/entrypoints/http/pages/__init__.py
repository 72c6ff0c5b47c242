"""Server-rendered pages (``/pay``, ``/pay/success``, sandbox checkout, ``/activate``)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler


def page_route_handlers() -> list[ControllerRouterHandler]:
    """The route handlers of the pages, included by ``create_app``."""
    return []
