"""The framework ceiling: a bare Litestar endpoint, served exactly like accessgate.

``POST /api/stripe/webhook`` reads the body and returns a constant. The server
is started the way ``accessgate serve`` starts one process: ``uvicorn.run`` with
the same options (address, no uvicorn log config, the settings' log level,
``proxy_headers`` and ``server_header`` off, the event loop of ``HTTP_EVENT_LOOP``,
uvicorn's default HTTP parser: httptools when installed) and accessgate's own logging
(one root handler with the redacting filter, so the access log costs the same);
its start-up heap is frozen as accessgate's is (``freeze_startup_objects``).
Run: ``python -m bench.ceiling --port 8101``.
"""

from __future__ import annotations

import argparse
import os

import uvicorn
from litestar import Litestar, Request, post

from accessgate.config import load_settings
from accessgate.entrypoints.heap import freeze_startup_objects
from accessgate.entrypoints.logs import configure_logging


@post("/api/stripe/webhook", status_code=200)
async def webhook(request: Request) -> dict[str, bool]:  # type: ignore[type-arg]
    """Read the body; answer a constant."""
    await request.body()
    return {"received": True}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    args = parser.parse_args()
    settings = load_settings(os.environ)
    app = Litestar(route_handlers=[webhook], on_startup=[freeze_startup_objects])
    configure_logging(settings)  # after Litestar, as build_app does
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        log_level=settings.service.log_level.lower(),
        proxy_headers=False,
        server_header=False,
        loop=settings.service.http_event_loop,
    )


if __name__ == "__main__":
    main()
