"""``accessgate serve`` and ``accessgate worker``: the long-running processes.

Both read and check the settings first, then build every adapter the settings
name and check the database once (:func:`preflight`): a bad setting, a missing
optional dependency (named with the extra that installs it), an unreachable or
unmigrated database or a broken mail template prints one line and exits with
status 2, before anything starts and without a traceback.

``serve`` also bounds what clients can hold: a request head and body must
arrive within ``HTTP_HEADER_TIMEOUT`` / ``HTTP_BODY_TIMEOUT`` seconds
(:mod:`accessgate.entrypoints.slow_clients`), a graceful shutdown waits at most
``HTTP_SHUTDOWN_TIMEOUT`` seconds for requests in flight, and the process's
soft limit of open files is raised to its hard limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from typing import Any

from accessgate.config import ConfigError, Settings, load_settings
from accessgate.container import Core, create_container, start_services, stop_services
from accessgate.domain.model.errors import DomainError
from accessgate.entrypoints.logs import configure_logging, redact

log = logging.getLogger("accessgate.serve")
FACTORY = "accessgate.entrypoints.serve:create_worker_app"
# The extra that installs each optional top-level module.
EXTRAS = {
    "uvicorn": "server",
    "litestar": "server",
    "httptools": "server",
    "httpx": "server",
    "prometheus_client": "server",
    "sqlalchemy": "sql",
    "aiosqlite": "sql",
    "alembic": "sql",
    "asyncpg": "postgres",
    "stripe": "stripe",
    "redis": "redis",
    "aiosmtplib": "smtp",
    "jinja2": "smtp",
    "aiogram": "bot",
}
SERVER_MODULES = ("uvicorn", "litestar")


def _settings() -> Settings | None:
    try:
        settings = load_settings(os.environ)
        configure_logging(settings)
    except ConfigError as error:
        print(f"accessgate: configuration error: {error}", file=sys.stderr)
        return None
    return settings


def missing_extra(error: ImportError) -> str:
    """One line naming the missing package and the extra that installs it."""
    module = (error.name or "").split(".")[0] or "?"
    extra = EXTRAS.get(module)
    if extra is None:
        return f"the Python package '{module}' is missing"
    return f"the Python package '{module}' is missing: pip install 'accessgate[{extra}]'"


async def _check_adapters(container: Core) -> None:
    try:
        for provider in (container.gateway, container.mailer, container.sinks):
            provider()
        await start_services(container)  # connects, checks (or upgrades) the schema
    finally:
        await stop_services(container)


def preflight(settings: Settings, modules: tuple[str, ...] = ()) -> str | None:
    """Why the service cannot start (one line), or ``None`` when it can.

    Imports ``modules``, builds every adapter the settings name (payment
    provider, mailer and its templates, relays, storage) and checks the
    database schema once, on a throw-away container.
    """
    try:
        for module in modules:
            __import__(module)
        asyncio.run(_check_adapters(create_container(settings)))
    except ImportError as error:
        return missing_extra(error)
    except ConfigError as error:
        return f"configuration error: {error}"
    except DomainError as error:  # storage unreachable, schema outdated
        return redact(error.message)
    return None


def _refuse(reason: str) -> int:
    print(f"accessgate: {reason}", file=sys.stderr)
    return 2


def raise_open_file_limit() -> None:
    """Raise the soft limit of open files to the hard limit (each connection holds one)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1_048_576
    if soft == resource.RLIM_INFINITY or soft >= target:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):  # pragma: no cover - a kernel cap below the hard limit
        log.debug("could not raise the open-file limit from %d to %d", soft, target)


def _protocol(settings: Settings) -> type[asyncio.Protocol]:
    from accessgate.entrypoints.slow_clients import configure_timeouts

    service = settings.service
    return configure_timeouts(service.http_header_timeout, service.http_body_timeout)


def create_worker_app() -> Any:
    """The uvicorn app factory of ``--workers N``: request deadlines, then the app."""
    from accessgate.entrypoints.http.asgi import create_app_from_env

    _protocol(load_settings(os.environ))
    return create_app_from_env()


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
    with_bot = getattr(args, "bot", False) or os.environ.get("BOT_MODE", "").strip() == "webhook"
    if with_bot and args.workers > 1:
        print("accessgate: the bot (--bot or BOT_MODE=webhook) needs --workers 1", file=sys.stderr)
        return 2
    _default_public_url(args.host, args.port)
    settings = _settings()
    if settings is None:
        return 2
    reason = preflight(settings, SERVER_MODULES)
    if reason is not None:
        return _refuse(reason)
    import uvicorn

    from accessgate.entrypoints.http.asgi import NO_WORKER_ENV, build_app

    raise_open_file_limit()
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_config": None,
        "log_level": settings.service.log_level.lower(),
        "proxy_headers": False,
        "server_header": False,
        "http": _protocol(settings),
        "loop": settings.service.http_event_loop,
        "timeout_graceful_shutdown": settings.service.http_shutdown_timeout,
    }
    log.info(
        "serving on http://%s:%d (public %s, providers %s, %d worker(s), outbox loop %s, "
        "event loop %s)",
        args.host,
        args.port,
        settings.service.app_public_base_url,
        ",".join(settings.payments.payment_providers),
        args.workers,
        "off" if args.no_worker else "on",
        settings.service.http_event_loop,
    )
    if args.workers > 1:
        if settings.storage.database_url.startswith("memory://"):
            log.warning("DATABASE_URL=memory:// keeps a separate store in every worker process")
        os.environ[NO_WORKER_ENV] = "1" if args.no_worker else "0"
        uvicorn.run(FACTORY, factory=True, workers=args.workers, **options)
        return 0
    try:
        container = create_container(settings)
        bot_parts = _bot_parts(settings, container, polling=getattr(args, "bot", False))
        routes = [] if bot_parts is None or bot_parts.route is None else [bot_parts.route]
        app = build_app(
            settings, container, with_worker=not args.no_worker, extra_route_handlers=routes
        )
        if bot_parts is not None:
            bot_parts.attach(app)
    except ConfigError as error:
        print(f"accessgate: configuration error: {error}", file=sys.stderr)
        return 2
    except ImportError as error:
        return _refuse(missing_extra(error))
    uvicorn.run(app, **options)
    return 0


def worker(args: argparse.Namespace) -> int:
    """Run the outbox delivery loop alone until SIGINT or SIGTERM."""
    settings = _settings()
    if settings is None:
        return 2
    reason = preflight(settings)
    if reason is not None:
        return _refuse(reason)
    from accessgate.entrypoints.worker import run_worker

    asyncio.run(run_worker(create_container(settings), settings))
    return 0


# --- the bot: ``serve --bot``, BOT_MODE=webhook, ``accessgate bot`` (issue 14) --------


class BotParts:
    """The bot that ``serve`` runs beside the HTTP app: its webhook route or its polling."""

    def __init__(self, bot: Any, dispatcher: Any, access: Any, route: Any, polling: bool) -> None:
        self.bot, self.dispatcher, self.access, self.route = bot, dispatcher, access, route
        self.polling = polling
        self._task: asyncio.Task[None] | None = None

    def attach(self, app: Any) -> None:
        """Start polling after the app's start-up; stop it and close the bot before its shutdown."""
        from accessgate.entrypoints.bot.run import run_polling

        async def start() -> None:
            if self.polling:
                coroutine = run_polling(self.bot, self.dispatcher, handle_signals=False)
                self._task = asyncio.create_task(coroutine)

        async def stop() -> None:
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._task
            await self.bot.session.close()
            closer = getattr(self.access, "aclose", None)
            if closer is not None:
                await closer()

        app.on_startup.append(start)
        app.on_shutdown.insert(0, stop)


def _bot_parts(settings: Settings, container: Core, *, polling: bool) -> BotParts | None:
    """The bot of ``serve``: polling with ``--bot``, the webhook route with BOT_MODE=webhook."""
    webhook = settings.bot.bot_mode == "webhook"
    if polling and webhook:
        raise ConfigError(
            "BOT_MODE=webhook: updates reach POST /tg/webhook/<secret>; drop --bot "
            "(or set BOT_MODE=polling)"
        )
    if not (polling or webhook):
        return None
    from accessgate.container import bot_access_client
    from accessgate.entrypoints.bot.run import create_bot, make_robust, webhook_route
    from accessgate.entrypoints.bot.wiring import create_bot_dispatcher

    bot = create_bot(settings)
    access = bot_access_client(container)
    dispatcher = make_robust(create_bot_dispatcher(container, access=access))
    route = None
    if webhook:
        route = webhook_route(settings.bot.telegram_webhook_secret or "", bot, dispatcher)
    return BotParts(bot, dispatcher, access, route, polling)


def bot(args: argparse.Namespace) -> int:
    """``accessgate bot`` (long polling) and ``accessgate bot set-webhook``."""
    settings = _settings()
    if settings is None:
        return 2
    try:
        from accessgate.entrypoints.bot.run import require_token

        require_token(settings)
        if getattr(args, "bot_action", None) == "set-webhook":
            return asyncio.run(_set_webhook(settings))
        if settings.bot.bot_mode == "webhook":
            raise ConfigError(
                "BOT_MODE=webhook: `accessgate serve` receives the updates; "
                "run `accessgate bot set-webhook` once, or set BOT_MODE=polling"
            )
    except ConfigError as error:
        return _refuse(f"configuration error: {error}")
    except ImportError as error:
        return _refuse(missing_extra(error))
    if not settings.bot.bot_access_api_url:  # in-process: this process uses the database
        reason = preflight(settings)
        if reason is not None:
            return _refuse(reason)
    asyncio.run(_run_bot(settings))
    return 0


async def _set_webhook(settings: Settings) -> int:
    from accessgate.entrypoints.bot.run import create_bot, register_webhook

    bot = create_bot(settings)
    try:
        url = await register_webhook(settings, bot)
    finally:
        await bot.session.close()
    print(f"webhook set: {redact(url)}")
    return 0


async def _run_bot(settings: Settings) -> None:
    from accessgate.container import bot_access_client
    from accessgate.entrypoints.bot.run import create_bot, make_robust, run_polling
    from accessgate.entrypoints.bot.wiring import create_bot_dispatcher

    container = create_container(settings)
    in_process = not settings.bot.bot_access_api_url
    if in_process:
        await start_services(container)
    access = bot_access_client(container)
    try:
        dispatcher = make_robust(create_bot_dispatcher(container, access=access))
        await run_polling(create_bot(settings), dispatcher)
    finally:
        closer = getattr(access, "aclose", None)
        if closer is not None:
            await closer()
        if in_process:
            await stop_services(container)
