"""Request and response bodies of the API (seed 002 field names, exactly).

Requests refuse unknown fields, bound every string to what its column holds
and refuse control characters in every string (:data:`SINGLE_LINE`); the use
cases check the rest (email format, mode/plan agreement, MobiSlon status names).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from accessgate.domain.model.status import AccessStatus, FulfillmentStatus, PaymentStatus
from accessgate.domain.model.values import (
    MAX_CLICKID,
    MAX_TELEGRAM_CHAT_ID,
    MAX_TELEGRAM_ID,
    Locale,
    Mode,
)
from accessgate.domain.usecases.relay_tracking_event import MOBISLON_STATUSES

# No control character (C0 with tab and line breaks, DEL, C1). A lookahead, not
# ``^[^...]*$``: ``$`` would let a final newline through.
SINGLE_LINE = r"^(?![\s\S]*[\x00-\x1f\x7f-\x9f])"
EmailStr = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=254,
        pattern=SINGLE_LINE,
        description="An email address",
        extra_json_schema={"extra": {"format": "email"}, "examples": ["buyer@example.com"]},
    ),
]
ShortStr = Annotated[str, Meta(max_length=512, pattern=SINGLE_LINE)]
ClickId = Annotated[
    str,
    Meta(max_length=MAX_CLICKID, pattern=SINGLE_LINE, description="The ad click id"),
]
TelegramChatId = Annotated[str, Meta(max_length=MAX_TELEGRAM_CHAT_ID, pattern=SINGLE_LINE)]
TokenStr = Annotated[
    str, Meta(min_length=1, max_length=64, pattern=SINGLE_LINE, description="Activation token")
]
OtpStr = Annotated[
    str, Meta(min_length=1, max_length=16, pattern=SINGLE_LINE, description="The six-digit code")
]
PlanCodeStr = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9_]+$",
        description="A plan code of the catalogue",
        examples=["one_time_basic", "sub_monthly"],
    ),
]
ProviderName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9_]+$",
        description="A payment provider of PAYMENT_PROVIDERS (default: the first listed)",
        examples=["stripe", "sandbox"],
    ),
]
CurrencyStr = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=8,
        pattern=r"^[A-Za-z0-9]+$",
        description="One of the plan's currencies (default: its first price)",
        examples=["USD", "XTR"],
    ),
]
TelegramId = Annotated[int, Meta(gt=0, le=MAX_TELEGRAM_ID, description="Telegram user id")]
MobiSlonStatus = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        pattern=SINGLE_LINE,
        description="A funnel event name of seed 002 (``pay_success`` comes only from payments)",
        extra_json_schema={"extra": {"enum": sorted(MOBISLON_STATUSES)}},
    ),
]
TrackingParams = Annotated[dict[ShortStr, ShortStr], Meta(max_length=50)]


class Body(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of request bodies: unknown fields are refused."""


class CheckoutSessionRequest(Body):
    """``POST /api/payment/checkout-session``."""

    mode: Mode
    plan: PlanCodeStr
    email: EmailStr
    clickid: ClickId | None = None
    locale: Locale | None = None
    telegram_chat_id: TelegramChatId | None = None
    currency: CurrencyStr | None = None
    provider: ProviderName | None = None


class CheckoutSessionResponse(msgspec.Struct, kw_only=True):
    """Where to send the buyer."""

    checkout_url: str
    session_id: str
    order_id: str


class SessionStatusResponse(msgspec.Struct, kw_only=True):
    """``GET /api/payment/session-status``; ``activation_link`` is null until a token is issued."""

    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus
    access_status: AccessStatus
    activation_link: str | None


class EmailRequest(Body):
    """A request naming an email."""

    email: EmailStr


class PortalResponse(msgspec.Struct, kw_only=True):
    """The portal link itself (``CUSTOMER_PORTAL_MODE=direct``, ``/api/bot/customer-portal``)."""

    portal_url: str


class PortalLinkSent(msgspec.Struct, kw_only=True):
    """``POST /api/payment/customer-portal`` by default: the same answer for any address."""

    status: Literal["portal_link_sent"]


class ActivateRequest(Body):
    """``POST /api/access/activate`` and ``/api/bot/access/activate``."""

    activation_token: TokenStr
    telegram_user_id: TelegramId


class ActivateResponse(msgspec.Struct, kw_only=True):
    """Access granted, with the order payload flat beside it."""

    access_granted: bool
    order_id: str
    plan: str
    access_status: AccessStatus
    valid_until: datetime | None


class RestoreRequested(msgspec.Struct, kw_only=True):
    """The one answer of a restore request, whatever the email."""

    status: Literal["otp_delivery_sent", "otp_logged"]


class RestoreConfirmRequest(Body):
    """``POST /api/auth/restore/confirm``."""

    email: EmailStr
    otp: OtpStr
    telegram_user_id: TelegramId | None = None


class BotRestoreConfirmRequest(Body):
    """``POST /api/bot/restore/confirm``: the Telegram account is required."""

    email: EmailStr
    otp: OtpStr
    telegram_user_id: TelegramId


class RestoreConfirmResponse(msgspec.Struct, kw_only=True):
    """A restored activation link and whether access was granted at once."""

    status: str
    activation_link: str
    access_granted: bool


class TelegramUserRequest(Body):
    """``POST /api/bot/access/status``."""

    telegram_user_id: TelegramId


class AccessStatusResponse(msgspec.Struct, kw_only=True):
    """The access of a Telegram account; null fields when it has none."""

    is_paid: bool
    order_id: str | None
    plan: str | None
    access_status: AccessStatus | None


class MobiSlonEventRequest(Body):
    """``POST /api/tracking/mobi-slon-event``."""

    status: MobiSlonStatus
    clickid: Annotated[str, Meta(min_length=1, max_length=MAX_CLICKID, pattern=SINGLE_LINE)]
    session_id: ShortStr | None = None
    page_path: ShortStr | None = None
    tracking_params: TrackingParams | None = None


class RelayResponse(msgspec.Struct, kw_only=True):
    """What happened to a tracking event: ``queued``, ``duplicate`` or ``disabled``."""

    status: Literal["queued", "duplicate", "disabled"]


class WebhookResponse(msgspec.Struct, kw_only=True):
    """A webhook delivery was received; the outcome of each event in it."""

    received: bool
    outcomes: list[str]


ServiceState = Annotated[
    str | dict[str, int],
    Meta(
        description='`"ok"` or `"error"`; the outbox shows its counts, `{"backlog": n, "failed": m}`'
    ),
]


class HealthResponse(msgspec.Struct, kw_only=True):
    """``GET /health`` when every service answers.

    ``services``: ``database``; ``redis`` when ``REDIS_URL`` is set; ``bot``
    when ``TELEGRAM_BOT_TOKEN`` is set; ``outbox`` with its pending and failed
    message counts.
    """

    status: Literal["ok"]
    services: dict[str, ServiceState]
    timestamp: str
