"""Starting the servers under test: accessgate (``accessgate serve``) and the ceiling."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bench.procs import Server, free_port

WEBHOOK_SECRET = "whsec_bench_0123456789abcdef0123456789abcdef"
INTERNAL_TOKEN = "bench-internal-token-0123456789abcdef"
BIN = Path(sys.executable).parent


def accessgate_env(database_url: str) -> dict[str, str]:
    """A production configuration in Stripe mode that reaches nothing outside 127.0.0.1.

    Stripe's API, SMTP and the MobiSlon tracker point at closed local ports: with
    ``--no-worker`` nothing is delivered, and a paid order never calls Stripe.
    The MobiSlon relay is on so each fulfilment writes the email and the postback.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "SMTP_"))}
    env.update(
        ACCESSGATE_ENV="production",
        SECRET_KEY="bench-secret-key-0123456789abcdef",
        DATABASE_URL=database_url,
        DATABASE_AUTO_MIGRATE="false",
        PAYMENT_PROVIDER="stripe",
        STRIPE_SECRET_KEY="sk_test_bench",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_PRICE_ONE_TIME_BASIC="price_bench_basic",
        STRIPE_PRICE_SUB_MONTHLY="price_bench_monthly",
        STRIPE_API_BASE="http://127.0.0.1:9",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT="9",
        SMTP_FROM="shop@example.com",
        MOBISLON_POSTBACK_URL="http://127.0.0.1:9/postback?cnv_id={clickid}&cnv_status={status}",
        INTERNAL_API_TOKEN=INTERNAL_TOKEN,
        RATE_LIMIT_ENABLED="false",
        APP_PUBLIC_BASE_URL="https://shop.example",
    )
    return env


def start_accessgate(database_url: str, log: Path) -> Server:
    """``accessgate serve --no-worker`` on a free port, ready."""
    port = free_port()
    argv = [str(BIN / "accessgate"), "serve", "--no-worker", "--port", str(port)]
    server = Server(argv, accessgate_env(database_url), port, log)
    try:
        server.wait_ready("/health")
    except BaseException:
        server.stop()
        raise
    return server


def start_ceiling(log: Path) -> Server:
    """The bare Litestar endpoint of :mod:`bench.ceiling`, same settings, ready."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.ceiling", "--port", str(port)]
    env = accessgate_env("sqlite+aiosqlite:///:memory:")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")]))
    server = Server(argv, env, port, log)
    try:
        server.wait_ready("/api/stripe/webhook")
    except BaseException:
        server.stop()
        raise
    return server
