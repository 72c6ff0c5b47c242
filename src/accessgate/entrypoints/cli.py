"""The ``accessgate`` command line.

Each subcommand is one function registered in :data:`COMMANDS`; nothing is
built before a command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta

import accessgate
from accessgate.config import ConfigError, load_settings
from accessgate.container import Core, create_container, start_services, stop_services
from accessgate.domain.model.errors import DomainError
from accessgate.domain.model.outbox import OutboxStatus

Handler = Callable[[argparse.Namespace], int]
Setup = Callable[[argparse.ArgumentParser], None]
COMMANDS: dict[str, tuple[str, Setup, Handler]] = {}


def command(
    name: str, help_text: str, setup: Setup = lambda parser: None
) -> Callable[[Handler], Handler]:
    """Register a subcommand: its name, one line of help, and its arguments."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = (help_text, setup, handler)
        return handler

    return register


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="accessgate", description=accessgate.__doc__)
    parser.add_argument("--version", action="version", version=accessgate.__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, setup, handler) in COMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        setup(child)
        child.set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


# --- accessgate outbox list|retry (issue 8) ---------------------------------


def _outbox_setup(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="outbox_action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="show outbox messages, oldest first")
    listing.add_argument("--status", choices=[s.value for s in OutboxStatus], default=None)
    listing.add_argument("--limit", type=int, default=100)
    retry = actions.add_parser("retry", help="replay failed messages (all when no id is given)")
    retry.add_argument("ids", nargs="*", metavar="ID")


def missing_database(url: str) -> str | None:
    """Why a command that needs existing data cannot run: no SQLite file at ``url``.

    Such commands never create a database (an empty file in whatever folder
    they were run from); ``serve`` and ``migrate`` do.
    """
    if url.startswith("memory://"):
        return None
    from accessgate.adapters.sqlalchemy.engine import sqlite_file

    path = sqlite_file(url)
    if path is None or path.exists():
        return None
    return f"no database at {path.absolute()}: set DATABASE_URL or run from the service's folder"


@command("outbox", "See and replay outbox messages (emails, postbacks).", _outbox_setup)
def outbox(args: argparse.Namespace) -> int:
    """``accessgate outbox list [--status S] [--limit N]`` / ``outbox retry [ID ...]``."""
    try:
        settings = load_settings(os.environ)
        missing = missing_database(settings.storage.database_url)
        if missing is not None:
            print(f"accessgate: {missing}", file=sys.stderr)
            return 2
        return asyncio.run(_outbox(args, create_container(settings)))
    except ConfigError as error:
        print(f"accessgate: configuration error: {error}", file=sys.stderr)
    except DomainError as error:
        print(f"accessgate: {error.message}", file=sys.stderr)
    except ImportError as error:
        from accessgate.entrypoints.serve import missing_extra

        print(f"accessgate: {missing_extra(error)}", file=sys.stderr)
    return 2


async def _outbox(args: argparse.Namespace, container: Core) -> int:
    await start_services(container)
    try:
        if args.outbox_action == "list":
            status = OutboxStatus(args.status) if args.status else None
            messages = await container.list_outbox().execute(status, args.limit)
            print("id\tchannel\tstatus\tattempts\tnext_attempt_at\tdedupe_key\tlast_error")
            for m in messages:
                due = m.next_attempt_at.isoformat()
                row = [m.id, m.channel, m.status, str(m.attempts), due, m.dedupe_key]
                print("\t".join([*row, m.last_error or ""]))
            return 0
        count = await container.retry_outbox().execute(args.ids or None)
        print(f"{count} message(s) queued again")
        return 0
    finally:
        await stop_services(container)


# --- accessgate reconcile (issue 15) ------------------------------------------

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_WINDOW = timedelta(days=366)


def duration(text: str) -> timedelta:
    """A positive duration such as ``30m``, ``24h`` or ``7d`` (units s, m, h, d)."""
    value, unit = text.strip()[:-1], text.strip()[-1:].lower()
    if unit not in DURATION_UNITS or not value.isascii() or not value.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30m, 24h or 7d")
    window = timedelta(seconds=int(value) * DURATION_UNITS[unit])
    if not timedelta(0) < window <= MAX_WINDOW:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 and at most 366d")
    return window


def _reconcile_setup(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since",
        type=duration,
        default=timedelta(hours=24),
        metavar="DURATION",
        help="ask about unpaid orders created within this window (30m, 24h, 7d; default 24h)",
    )


@command(
    "reconcile",
    "Ask the providers about unpaid orders and apply missed payments (run from cron).",
    _reconcile_setup,
)
def reconcile(args: argparse.Namespace) -> int:
    """``accessgate reconcile [--since 24h]``: one summary line; 1 when an order failed."""
    try:
        settings = load_settings(os.environ)
        missing = missing_database(settings.storage.database_url)
        if missing is not None:
            print(f"accessgate: {missing}", file=sys.stderr)
            return 2
        return asyncio.run(_reconcile(args.since, create_container(settings)))
    except ConfigError as error:
        print(f"accessgate: configuration error: {error}", file=sys.stderr)
    except DomainError as error:
        print(f"accessgate: {error.message}", file=sys.stderr)
    except ImportError as error:
        from accessgate.entrypoints.serve import missing_extra

        print(f"accessgate: {missing_extra(error)}", file=sys.stderr)
    return 2


async def _reconcile(window: timedelta, container: Core) -> int:
    await start_services(container)
    try:
        summary = await container.reconcile_payments().execute(window)
    finally:
        await stop_services(container)
    print(summary.line())
    return 1 if summary.failed else 0


# --- accessgate serve | worker (issue 4) -------------------------------------


def _serve_setup(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    parser.add_argument("--workers", type=int, default=1, help="HTTP worker processes (default 1)")
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="do not run the outbox delivery loop in this process (run `accessgate worker`)",
    )
    parser.add_argument(
        "--bot",
        action="store_true",
        help="also run the Telegram bot (long polling) in this process",
    )


@command("serve", "Run the HTTP service and the outbox delivery loop.", _serve_setup)
def serve(args: argparse.Namespace) -> int:
    """``accessgate serve [--host H] [--port P] [--workers N] [--no-worker]``."""
    from accessgate.entrypoints import serve as serving

    return serving.serve(args)


@command("worker", "Deliver the outbox (emails, postbacks) until SIGINT or SIGTERM.")
def worker(args: argparse.Namespace) -> int:
    """``accessgate worker``: the outbox delivery loop alone."""
    from accessgate.entrypoints import serve as serving

    return serving.worker(args)


# --- accessgate bot [set-webhook] (issue 14) ---------------------------------


def _bot_setup(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="bot_action", required=False, metavar="ACTION")
    actions.add_parser(
        "set-webhook",
        help="register ${APP_PUBLIC_BASE_URL}/tg/webhook/<secret> with Telegram (BOT_MODE=webhook)",
    )


@command("bot", "Run the Telegram bot (long polling), or `bot set-webhook`.", _bot_setup)
def bot(args: argparse.Namespace) -> int:
    """``accessgate bot``: long polling until SIGINT/SIGTERM; ``bot set-webhook``: register the webhook."""
    from accessgate.entrypoints import serve as serving

    return serving.bot(args)


# --- accessgate migrate (issue 3) --------------------------------------------


def _migrate_setup(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sql", action="store_true", help="print the SQL for a DBA instead of running it"
    )
    parser.add_argument(
        "--revision", default="head", help="the revision to upgrade to (default: head)"
    )


@command(
    "migrate", "Upgrade the database schema of DATABASE_URL to the newest revision.", _migrate_setup
)
def migrate(args: argparse.Namespace) -> int:
    """``accessgate migrate [--sql] [--revision R]`` on ``DATABASE_URL``."""
    try:
        from alembic.util import CommandError

        from accessgate.adapters.sqlalchemy import migrate as migrations
        from accessgate.adapters.sqlalchemy.engine import DEFAULT_DATABASE_URL
    except ImportError as error:
        from accessgate.entrypoints.serve import missing_extra

        print(f"accessgate migrate: {missing_extra(error)}", file=sys.stderr)
        return 2

    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if url.startswith("memory://"):
        print("accessgate migrate: memory storage has no schema to migrate", file=sys.stderr)
        return 0
    try:
        if args.sql:
            sys.stdout.write(migrations.upgrade_sql(url, args.revision))
            return 0
        asyncio.run(migrations.upgrade(url, args.revision))
        revision = asyncio.run(migrations.current_revision(url))
    except DomainError as error:
        print(f"accessgate migrate: {error.message}", file=sys.stderr)
        return 1
    except CommandError as error:
        print(f"accessgate migrate: {error}", file=sys.stderr)
        return 2
    except ImportError as error:  # the database driver (asyncpg) is not installed
        from accessgate.entrypoints.serve import missing_extra

        print(f"accessgate migrate: {missing_extra(error)}", file=sys.stderr)
        return 2
    print(f"database schema at revision {revision}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
