"""The served application: ``create_app`` plus the in-process outbox loop.

:func:`build_app` is what ``accessgate serve`` runs in one process;
:func:`create_app_from_env` is the uvicorn app factory for ``--workers N``
(``uvicorn accessgate.entrypoints.http.asgi:create_app_from_env --factory``):
each worker process reads and checks the settings, configures logging and
builds its own container.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from litestar import Litestar
from litestar.types import ControllerRouterHandler

from accessgate.config import Settings, load_settings
from accessgate.container import Core, create_container, start_services, stop_services
from accessgate.entrypoints.heap import freeze_startup_objects
from accessgate.entrypoints.http.app import create_app
from accessgate.entrypoints.logs import configure_logging
from accessgate.entrypoints.worker import OutboxLoop

NO_WORKER_ENV = "ACCESSGATE_SERVE_NO_WORKER"


def build_app(
    settings: Settings,
    container: Core,
    *,
    with_worker: bool = True,
    extra_route_handlers: Sequence[ControllerRouterHandler] = (),
) -> Litestar:
    """The app, opening the container's services on start-up and closing them on shutdown.

    The start-up checks the storage schema (a SQLite file is upgraded in place;
    an outdated server database stops the start naming ``accessgate migrate``).
    With ``with_worker`` the outbox loop runs from start-up to shutdown.
    """
    app = create_app(settings, container, extra_route_handlers=extra_route_handlers)
    configure_logging(settings)  # a Litestar default logging config would replace ours
    loop = OutboxLoop.of(container, settings) if with_worker else None

    async def start() -> None:
        await start_services(container)
        if loop is not None:
            await loop.start()
        freeze_startup_objects()

    async def stop() -> None:
        if loop is not None:
            await loop.shutdown()
        await stop_services(container)

    app.on_startup.append(start)
    app.on_shutdown.append(stop)
    return app


def create_app_from_env() -> Litestar:
    """The app of the environment's settings (an ASGI app factory).

    ``ACCESSGATE_SERVE_NO_WORKER=1`` leaves the outbox loop out.
    """
    settings = load_settings(os.environ)
    configure_logging(settings)
    return build_app(
        settings, create_container(settings), with_worker=os.environ.get(NO_WORKER_ENV) != "1"
    )
