"""The FreeKassa PaymentGateway: the SCI payment form and its notification.

Checkout makes no API call: the buyer goes to the payment form URL
(``FREEKASSA_PAY_URL``) with ``m``, ``oa`` (the exact decimal amount),
``currency``, ``o`` (the order id), ``em``, ``lang``, ``us_currency`` and
``s`` (:func:`.signature.form_signature`, keyed with the first secret word).
The session id is derived from the order id and keyed with the second secret
word (``fk_<order id>_<HMAC>``): the same order always gets the same session,
and knowing an order id does not give the session id.

A notification is trusted only when, in this order: its source address (the
client address resolved through ``TRUSTED_PROXIES``) is in
``FREEKASSA_TRUSTED_IPS``; ``SIGN`` is the MD5 of
``MERCHANT_ID:AMOUNT:secret_2:MERCHANT_ORDER_ID`` over the raw strings
(case-insensitive, constant time); ``MERCHANT_ID`` is ours. Each failure is
403 ``INVALID_SIGNATURE``. A verified notification without ``intid`` or with
an amount that is not exact money is 400 ``VALIDATION_ERROR``. The event id is
``intid``; the amount and currency are checked against the order by
``FulfillPayment`` (``INVALID_AMOUNT``). The reply is the plain body ``YES``,
sent only after the event is applied and committed.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlencode

from accessgate.adapters.freekassa.signature import (
    form_signature,
    notification_signature,
    signature_matches,
)
from accessgate.adapters.freekassa.wire import CURRENCY_FIELD, parse_notification
from accessgate.domain.model.currency import decimal_string, decimals, minor_units
from accessgate.domain.model.errors import InvalidSignature, ValidationError
from accessgate.domain.model.payment_event import PaymentEvent, PaymentEventKind
from accessgate.domain.model.values import Money
from accessgate.ports.clock import Clock
from accessgate.ports.payment_gateway import (
    Capability,
    CheckoutRequest,
    CheckoutSession,
    VerifiedWebhook,
    WebhookReply,
    WebhookRequest,
)

PROVIDER = "freekassa"
SESSION_PREFIX = "fk_"
REPLY = WebhookReply(body=b"YES", media_type="text/plain")
MAX_EVENT_ID = 128
_EVENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """The networks of addresses or CIDR blocks; a ValueError names a bad entry's position."""
    networks = []
    for n, entry in enumerate(entries, start=1):
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"entry {n} is not an IP address or network") from None
    return tuple(networks)


def exact_amount(text: str, currency: str) -> int:
    """The minor units of FreeKassa's ``AMOUNT`` text, exactly.

    Zeros beyond the currency's decimals are accepted (``"199.000"`` RUB is
    19900); any other extra digit is refused.

    Raises:
        ValidationError: not a plain non-negative decimal, or not exact.

    """
    whole, dot, fraction = text.partition(".")
    places = decimals(currency)
    if dot and len(fraction) > places and fraction[places:].strip("0") == "":
        text = f"{whole}.{fraction[:places]}" if places else whole
    return minor_units(text, currency)


class FreeKassaGateway:
    """A PaymentGateway for FreeKassa's SCI payment form.

    Capabilities: none (no status poll: only the notification settles an
    order; no customer portal; no refunds).

    Args:
        merchant_id: the shop id (``FREEKASSA_MERCHANT_ID``).
        secret_1: the first secret word (signs the payment form).
        secret_2: the second secret word (signs the notification).
        pay_url: the payment form's address (``FREEKASSA_PAY_URL``).
        trusted_ips: the addresses and networks notifications come from.
        clock: the time source of the events.

    Raises:
        ValueError: an empty id or secret word, or a bad address.

    """

    capabilities: frozenset[Capability] = frozenset()

    def __init__(
        self,
        *,
        merchant_id: str,
        secret_1: str,
        secret_2: str,
        pay_url: str,
        trusted_ips: Iterable[str],
        clock: Clock,
    ) -> None:
        if not merchant_id or not secret_1 or not secret_2:
            raise ValueError("the FreeKassa merchant id and secret words must not be empty")
        self._merchant_id = merchant_id
        self._secret_1 = secret_1
        self._secret_2 = secret_2
        self._pay_url = pay_url
        self._trusted = parse_networks(trusted_ips)
        self._clock = clock

    @property
    def name(self) -> str:
        """The provider name: ``freekassa``."""
        return PROVIDER

    def session_id_of(self, order_id: str) -> str:
        """The session id of ``order_id``: the order id and a digest keyed with secret word 2."""
        key = self._secret_2.encode()
        digest = hmac.new(key, f"session:{order_id}".encode(), "sha256").digest()
        tag = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
        return f"{SESSION_PREFIX}{order_id}_{tag}"

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """The signed payment form URL for the order, at the chosen price (no API call)."""
        currency = request.price.currency
        amount = decimal_string(request.price.amount, currency)
        signature = form_signature(
            merchant_id=self._merchant_id,
            amount=amount,
            secret_1=self._secret_1,
            currency=currency,
            order_id=request.order_id,
        )
        query = urlencode(
            {
                "m": self._merchant_id,
                "oa": amount,
                "currency": currency,
                "o": request.order_id,
                "s": signature,
                "em": request.email,
                "lang": request.locale.value,
                CURRENCY_FIELD: currency,
            }
        )
        return CheckoutSession(
            session_id=self.session_id_of(request.order_id),
            checkout_url=f"{self._pay_url}?{query}",
            amount=request.price.amount,
            currency=currency,
        )

    def _from_trusted_address(self, client_ip: str | None) -> bool:
        try:
            address = ipaddress.ip_address((client_ip or "").strip())
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self._trusted)

    async def verify_webhook(self, request: WebhookRequest) -> VerifiedWebhook:
        """Check the source address, ``SIGN`` and the merchant id; one paid event; ``YES``.

        Raises:
            InvalidSignature: an untrusted address, a wrong or missing
                signature, or another shop's merchant id.
            ValidationError: a verified notification without ``intid`` or
                ``us_currency``, or whose amount is not exact money.

        """
        if not self._from_trusted_address(request.client_ip):
            raise InvalidSignature("Notification from an address FreeKassa does not use")
        note = parse_notification(request.body)
        expected = notification_signature(
            merchant_id=note.merchant_id,
            amount=note.amount,
            secret_2=self._secret_2,
            order_id=note.order_id,
        )
        if not signature_matches(expected, note.sign):
            raise InvalidSignature()
        if not hmac.compare_digest(note.merchant_id.encode(), self._merchant_id.encode()):
            raise InvalidSignature("Notification for another FreeKassa shop")
        if note.intid is None or not _EVENT_ID.match(note.intid):
            raise ValidationError("Missing or invalid intid", field="intid")
        if note.currency is None:
            raise ValidationError("Missing us_currency", field=CURRENCY_FIELD)
        try:
            currency = note.currency.upper()
            amount = Money.of(exact_amount(note.amount, currency), currency)
        except ValidationError:
            raise ValidationError("Not a valid amount", field="AMOUNT") from None
        event = PaymentEvent(
            provider=PROVIDER,
            event_id=note.intid,
            kind=PaymentEventKind.CHECKOUT_COMPLETED,
            occurred_at=self._clock.now(),
            order_id=note.order_id,
            payment_id=f"fk_{note.intid}",
            amount=amount,
        )
        return VerifiedWebhook(events=[event], reply=REPLY)
