"""``accessgate serve`` and ``accessgate worker``: the long-running processes.

Both read and check the settings first: a bad setting prints one line naming
the variable and exits with status 2, before anything starts.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from accessgate.config import ConfigError, Settings, load_settings
from accessgate.container import create_container
from accessgate.entrypoints.logs import configure_logging

log = logging.getLogger("accessgate.serve")
FACTORY = "accessgate.entrypoints.http.asgi:create_app_from_env"


def _settings() -> Settings | None:
    try:
        settings = load_settings(os.environ)
        configure_logging(settings)
    except ConfigError as error:
        print(f"accessgate: configuration error: {error}", file=sys.stderr)
        return None
    return settings


def _default_public_url(host: str, port: int) -> None:
    """Without ``APP_PUBLIC_BASE_URL``, links point at the address being served."""
    if os.environ.get("APP_PUBLIC_BASE_URL", "").strip():
        return
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - a comparison
    shown = "[::1]" if shown == "::" else (f"[{shown}]" if ":" in shown else shown)
    os.environ["APP_PUBLIC_BASE_URL"] = f"http://{shown}:{port}"


def serve(args: argparse.Namespace) -> int:
    """Run the HTTP service (and, unless ``--no-worker``, the outbox loop)."""
    if args.workers < 1 or not 0 < args.port < 65536:
        print("accessgate: --workers must be >= 1 and --port in 1..65535", file=sys.stderr)
        return 2
    _default_public_url(args.host, args.port)
    settings = _settings()
    if settings is None:
        return 2
    import uvicorn

    from accessgate.entrypoints.http.asgi import NO_WORKER_ENV, build_app

    options = {
        "host": args.host,
        "port": args.port,
        "log_config": None,
        "log_level": settings.log_level.lower(),
        "proxy_headers": False,
        "server_header": False,
    }
    log.info(
        "serving on http://%s:%d (public %s, provider %s, %d worker(s), outbox loop %s)",
        args.host,
        args.port,
        settings.app_public_base_url,
        settings.payment_provider,
        args.workers,
        "off" if args.no_worker else "on",
    )
    if args.workers > 1:
        if settings.database_url.startswith("memory://"):
            log.warning("DATABASE_URL=memory:// keeps a separate store in every worker process")
        os.environ[NO_WORKER_ENV] = "1" if args.no_worker else "0"
        uvicorn.run(FACTORY, factory=True, workers=args.workers, **options)
        return 0
    try:
        container = create_container(settings)
        app = build_app(settings, container, with_worker=not args.no_worker)
    except ConfigError as error:
        print(f"accessgate: configuration error: {error}", file=sys.stderr)
        return 2
    uvicorn.run(app, **options)
    return 0


def worker(args: argparse.Namespace) -> int:
    """Run the outbox delivery loop alone until SIGINT or SIGTERM."""
    settings = _settings()
    if settings is None:
        return 2
    from accessgate.entrypoints.worker import run_worker

    asyncio.run(run_worker(create_container(settings), settings))
    return 0
