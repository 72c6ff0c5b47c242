"""The application factory: ``create_app(settings, container)``.

Nothing is built at import time. The use cases of the container reach the
handlers as app-level Litestar dependencies named like the container's
providers (``start_checkout``, ``session_status``, ...). ``app.state.settings``
and ``app.state.container`` hold what the app was made with.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide

from accessgate.config import Settings
from accessgate.container import Core
from accessgate.entrypoints.http.pages import page_route_handlers

USE_CASES = (
    "start_checkout",
    "handle_payment_events",
    "session_status",
    "activate_access",
    "access_status",
    "request_restore",
    "confirm_restore",
    "relay_tracking_event",
    "open_customer_portal",
)


def _provider(container: Core, name: str) -> Provide:
    provider = getattr(container, name)

    def provide() -> object:
        return provider()

    return Provide(provide, use_cache=True, sync_to_thread=False)


def create_app(settings: Settings, container: Core) -> Litestar:
    """The Litestar application over ``container``'s use cases."""
    dependencies = {name: _provider(container, name) for name in USE_CASES}
    return Litestar(
        route_handlers=[*page_route_handlers()],
        dependencies=dependencies,
        state=State({"settings": settings, "container": container}),
    )
