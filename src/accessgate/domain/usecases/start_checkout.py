"""StartCheckout: open a provider checkout for a new order."""

from __future__ import annotations

import msgspec

from accessgate.domain.model.access import Access
from accessgate.domain.model.catalogue import PlanCatalog
from accessgate.domain.model.order import Order
from accessgate.domain.model.return_link import ReturnLinks
from accessgate.domain.model.status import AccessStatus
from accessgate.domain.model.values import (
    MAX_CLICKID,
    MAX_TELEGRAM_CHAT_ID,
    Email,
    Locale,
    Money,
    header_text,
    single_line,
    telegram_user_id,
)
from accessgate.ports.clock import Clock
from accessgate.ports.payment_gateway import CheckoutRequest
from accessgate.ports.payment_providers import PaymentProviders
from accessgate.ports.tokens import TokenFactory
from accessgate.ports.unit_of_work import UnitOfWorkFactory

MAX_FIELD = 512
# What the buyer (or the page that sent them) chose, with its longest value; each
# fits its column of ``orders`` and the provider's metadata.
BUYER_FIELDS = {
    "mode": 32,
    "plan": 64,
    "clickid": MAX_CLICKID,
    "locale": 8,
    "provider": 64,
    "currency": 8,
    "telegram_chat_id": MAX_TELEGRAM_CHAT_ID,
    "fbclid": MAX_FIELD,
}


class StartCheckoutCommand(msgspec.Struct, frozen=True, kw_only=True):
    """A buyer's request to pay (seed 002 fields plus what Meta needs later)."""

    mode: str
    plan: str
    email: str
    clickid: str | None = None
    locale: str | None = None
    telegram_chat_id: str | None = None
    # Only an entrypoint that verified it (the signed pay URL) sets this.
    telegram_user_id: int | None = None
    currency: str | None = None
    provider: str | None = None
    fbclid: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None


class CheckoutStarted(msgspec.Struct, frozen=True, kw_only=True):
    """Where to send the buyer."""

    checkout_url: str
    session_id: str
    order_id: str


class StartCheckout:
    """Open a checkout and record the order.

    Rules:
        * mode and plan must agree; the price is the plan's price in the
          ``currency`` asked for (one the plan has, else VALIDATION_ERROR naming
          ``currency``), or its first price; the email is validated and normalised; an
          unknown locale is a validation error, no locale is the default one.
        * What the buyer sent (``BUYER_FIELDS``) holds no control character and
          fits its column, else VALIDATION_ERROR naming the field; what the
          connection tells (client address, User-Agent) is recorded cleaned and
          cut to its column, never a reason to refuse.
        * The provider is the one named (one of ``PAYMENT_PROVIDERS``, else
          VALIDATION_ERROR naming ``provider``), or the default (the first
          listed); the order remembers it, and everything later about the
          order goes to it.
        * The provider is called before anything is stored, so a provider
          failure leaves no half-made order behind.
        * The provider is asked to charge the chosen price; the order records
          the amount and currency the provider reports it will charge,
          and starts ``unpaid``/``pending`` with access ``pending``.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        providers: PaymentProviders,
        catalog: PlanCatalog,
        clock: Clock,
        tokens: TokenFactory,
        default_locale: Locale = Locale.EN,
        return_links: ReturnLinks | None = None,
    ) -> None:
        self._uow = uow
        self._providers = providers
        self._catalog = catalog
        self._clock = clock
        self._tokens = tokens
        self._default_locale = default_locale
        self._return_links = return_links

    async def execute(self, command: StartCheckoutCommand) -> CheckoutStarted:
        """Open the checkout; raises ValidationError, ServiceUnavailable, ProviderRejected."""
        for name, longest in BUYER_FIELDS.items():
            single_line(getattr(command, name), name, longest)
        plan = self._catalog.for_checkout(command.mode, command.plan)
        gateway = self._providers.get(command.provider or None)
        price = plan.price_in(command.currency)
        email = Email.parse(command.email).value
        locale = Locale.parse(command.locale, self._default_locale)
        client_ip = header_text(command.client_ip, MAX_FIELD)
        user_agent = header_text(command.user_agent, MAX_FIELD)
        verified_user = (
            None if command.telegram_user_id is None else telegram_user_id(command.telegram_user_id)
        )
        verified_chat = None if verified_user is None else str(verified_user)
        order_id = self._tokens.new_id("ord")
        session = await gateway.create_checkout(
            CheckoutRequest(
                order_id=order_id,
                plan=plan,
                price=price,
                email=email,
                locale=locale,
                clickid=command.clickid or None,
                telegram_chat_id=command.telegram_chat_id or verified_chat,
                return_url=None if self._return_links is None else self._return_links.url(order_id),
            )
        )
        now = self._clock.now()
        order = Order(
            id=order_id,
            mode=plan.mode,
            plan=plan.code,
            email=email,
            locale=locale,
            provider=gateway.name,
            provider_session_id=session.session_id,
            amount=Money.of(session.amount, session.currency),
            created_at=now,
            updated_at=now,
            clickid=command.clickid or None,
            telegram_chat_id=command.telegram_chat_id or verified_chat,
            telegram_user_id=verified_user,
            provider_customer_id=session.customer_id,
            fbclid=command.fbclid or None,
            client_ip=client_ip,
            user_agent=user_agent,
        )
        async with self._uow() as uow:
            await uow.orders.add(order)
            await uow.accesses.add(
                # Provider event times are whole seconds: an event in the second of
                # the checkout must not count as older than the order.
                Access(
                    order_id=order_id,
                    status=AccessStatus.PENDING,
                    changed_at=now.replace(microsecond=0),
                    updated_at=now,
                )
            )
            await uow.commit()
        return CheckoutStarted(
            checkout_url=session.checkout_url, session_id=session.session_id, order_id=order_id
        )
