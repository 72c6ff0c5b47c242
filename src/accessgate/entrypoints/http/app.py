"""The application factory: ``create_app(settings, container)``.

Nothing is built at import time. The use cases of the container reach the
handlers as app-level Litestar dependencies named like the container's
providers (``start_checkout``, ``session_status``, ...); the webhooks get
theirs bundled in one (``webhook_context``). ``app.state.settings``
and ``app.state.container`` hold what the app was made with.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from accessgate.config import Settings
from accessgate.container import Core
from accessgate.entrypoints.http.client import ClientAddress, parse_trusted_proxies
from accessgate.entrypoints.http.control_chars import ControlCharactersMiddleware
from accessgate.entrypoints.http.controllers.access import AccessController
from accessgate.entrypoints.http.controllers.bot import BotController
from accessgate.entrypoints.http.controllers.health import (
    HealthChecks,
    HealthController,
    bot_check,
    outbox_check,
)
from accessgate.entrypoints.http.controllers.legacy import LegacyController
from accessgate.entrypoints.http.controllers.metrics import metrics_endpoint
from accessgate.entrypoints.http.controllers.payment import PaymentController
from accessgate.entrypoints.http.controllers.restore import RestoreController
from accessgate.entrypoints.http.controllers.tracking import TrackingController
from accessgate.entrypoints.http.controllers.webhooks import WebhookContext, WebhookController
from accessgate.entrypoints.http.exceptions import exception_handlers
from accessgate.entrypoints.http.gauges import CachedGauges
from accessgate.entrypoints.http.guards import (
    STATE_BOT_RESTORE_RATE_LIMITER,
    STATE_INTERNAL_TOKEN,
    STATE_RATE_LIMITER,
    STATE_STRICT_RATE_LIMITER,
    rate_limit,
)
from accessgate.entrypoints.http.metrics import (
    STATE_GAUGES,
    STATE_METRICS,
    HttpMetricsMiddleware,
    count_unrouted,
)
from accessgate.entrypoints.http.openapi import openapi_config
from accessgate.entrypoints.http.pages import page_route_handlers
from accessgate.entrypoints.http.ratelimit import (
    MemoryRateLimitStore,
    RateLimiter,
    RateLimitStore,
    RedisRateLimitStore,
    body_email_key,
)
from accessgate.entrypoints.http.request_id import RequestIdMiddleware, echo_request_id
from accessgate.entrypoints.http.security import InternalTokenGuard
from accessgate.entrypoints.metrics import ServiceMetrics

logger = logging.getLogger("accessgate.http")

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
    "open_account_portal",
    "request_portal_link",
)
RATE_LIMIT_PREFIX = "accessgate:ratelimit:"
MAX_BODY_BYTES = 1_048_576


def _constant(value: object) -> Provide:
    def provide() -> object:
        return value

    return Provide(provide, use_cache=True, sync_to_thread=False)


def _provider(container: Core, name: str) -> Provide:
    provider = getattr(container, name)

    def provide() -> object:
        return provider()

    return Provide(provide, use_cache=True, sync_to_thread=False)


def _public(limited: bool, *handlers: ControllerRouterHandler) -> Router:
    """Public routes, under ``rate_limit`` when limits are on (else no guard at all)."""
    return Router("/", route_handlers=list(handlers), guards=[rate_limit] if limited else [])


def _redis(url: str) -> Any:
    import redis.asyncio as aioredis  # optional dependency: only with REDIS_URL

    return aioredis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)


def create_app(
    settings: Settings,
    container: Core,
    *,
    rate_limit_prefix: str = RATE_LIMIT_PREFIX,
    extra_route_handlers: Sequence[ControllerRouterHandler] = (),
) -> Litestar:
    """The Litestar application over ``container``'s use cases.

    Args:
        settings: the validated settings.
        container: the container whose use cases serve the requests.
        rate_limit_prefix: the Redis key prefix of the rate-limit counters.
        extra_route_handlers: routes another entrypoint adds (the bot's webhook
            ``POST /tg/webhook/<secret>``); errors they raise use the envelope.

    """
    client_address = ClientAddress(parse_trusted_proxies(settings.service.trusted_proxies))
    redis = _redis(settings.limits.redis_url) if settings.limits.redis_url else None
    store: RateLimitStore = (
        RedisRateLimitStore(redis, rate_limit_prefix) if redis else MemoryRateLimitStore()
    )
    limiter = strict_limiter = bot_restore_limiter = None
    limits = settings.limits
    if limits.rate_limit_enabled:
        limiter = RateLimiter(
            store, limits.rate_limit_requests, limits.rate_limit_window, client_address
        )
        strict = (store, limits.restore_rate_limit_requests, limits.rate_limit_window)
        strict_limiter = RateLimiter(*strict, client_address, scope="strict:")
        bot_restore_limiter = RateLimiter(
            *strict, client_address, scope="bot-restore:", key=body_email_key(client_address)
        )
    limited = limiter is not None
    guard = InternalTokenGuard(settings.bot.internal_api_token)
    metrics = ServiceMetrics()
    gauges = CachedGauges(lambda: container.read_gauges().execute())
    checks: dict[str, Any] = {"database": lambda: container.uow().check()}
    if redis is not None:
        checks["redis"] = redis.ping
    if settings.bot.telegram_bot_token:
        checks["bot"] = bot_check(settings.bot.telegram_bot_token)
    checks["outbox"] = outbox_check(gauges)
    observed = [metrics_endpoint] if settings.service.metrics_enabled else []
    dependencies = {name: _provider(container, name) for name in USE_CASES}
    dependencies |= {
        "client_address": _constant(client_address),
        "health_checks": _constant(HealthChecks(checks)),
        "webhook_context": Provide(
            lambda: WebhookContext(
                container.payments(), container.handle_payment_events(), client_address
            ),
            use_cache=True,
            sync_to_thread=False,
        ),
    }

    def announce() -> None:
        if not guard.enabled:
            logger.warning(
                "INTERNAL_API_TOKEN is not set: the internal bot API (/api/bot/*) is off "
                "and answers 401"
            )

    async def close() -> None:
        await store.close()

    return Litestar(
        route_handlers=[  # the order of the OpenAPI document
            HealthController,
            _public(limited, PaymentController),
            WebhookController,
            _public(limited, AccessController, RestoreController, TrackingController),
            BotController,
            _public(limited, LegacyController),
            *page_route_handlers(),
            *observed,
            *extra_route_handlers,
        ],
        dependencies=dependencies,
        exception_handlers=exception_handlers(),
        middleware=[
            *([HttpMetricsMiddleware(metrics)] if observed else []),
            RequestIdMiddleware(),
            ControlCharactersMiddleware(),
        ],
        before_send=[echo_request_id, *([count_unrouted(metrics)] if observed else [])],
        on_startup=[announce],
        on_shutdown=[close],
        openapi_config=openapi_config(),
        request_max_body_size=MAX_BODY_BYTES,
        logging_config=None,  # logging is configured once by entrypoints.logs
        state=State(
            {
                "settings": settings,
                "container": container,
                STATE_RATE_LIMITER: limiter,
                STATE_STRICT_RATE_LIMITER: strict_limiter,
                STATE_BOT_RESTORE_RATE_LIMITER: bot_restore_limiter,
                STATE_INTERNAL_TOKEN: guard,
                STATE_METRICS: metrics,
                STATE_GAUGES: gauges,
            }
        ),
    )
