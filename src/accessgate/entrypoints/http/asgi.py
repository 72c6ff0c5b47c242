"""The served application: ``create_app`` plus the in-process outbox loop.

:func:`build_app` is what ``accessgate serve`` runs in one process;
:func:`create_app_from_env` is the uvicorn app factory for ``--workers N``
(``uvicorn accessgate.entrypoints.http.asgi:create_app_from_env --factory``):
each worker process reads and checks the settings, configures logging and
builds its own container.
"""

from __future__ import annotations

import os

from litestar import Litestar

from accessgate.config import Settings, load_settings
from accessgate.container import Core, create_container
from accessgate.entrypoints.http.app import create_app
from accessgate.entrypoints.logs import configure_logging
from accessgate.entrypoints.worker import OutboxLoop

NO_WORKER_ENV = "ACCESSGATE_SERVE_NO_WORKER"


def build_app(settings: Settings, container: Core, *, with_worker: bool = True) -> Litestar:
    """The app; with ``with_worker`` the outbox loop runs from start-up to shutdown."""
    app = create_app(settings, container)
    configure_logging(settings)  # a Litestar default logging config would replace ours
    if with_worker:
        loop = OutboxLoop.of(container, settings)

        async def start_outbox() -> None:
            await loop.start()

        async def stop_outbox() -> None:
            await loop.shutdown()

        app.on_startup.append(start_outbox)
        app.on_shutdown.append(stop_outbox)
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
