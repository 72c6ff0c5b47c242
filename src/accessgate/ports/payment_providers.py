"""The live payment providers, and the shape of a provider plug-in.

:class:`PaymentProviders` is what the use cases get: the providers listed in
``PAYMENT_PROVIDERS``, by name, the first one the default. :class:`ProviderPlugin`
is what a package registers in the entry-point group
``accessgate.payment_providers``: its name, its settings group (a msgspec
Struct read from the environment variables with its prefix) and a factory of
its gateway. Discovery and building happen in the composition root only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from accessgate.domain.model.errors import UnknownProvider
from accessgate.ports.clock import Clock
from accessgate.ports.payment_gateway import PaymentGateway

ENTRY_POINT_GROUP = "accessgate.payment_providers"
S = TypeVar("S")


class PaymentProviders:
    """The live providers, in the order listed; the first is the default.

    Raises:
        ValueError: no provider, or two with the same name.

    """

    def __init__(self, gateways: Sequence[PaymentGateway]) -> None:
        if not gateways:
            raise ValueError("at least one payment provider is required")
        self._by_name = {g.name: g for g in gateways}
        if len(self._by_name) != len(gateways):
            raise ValueError("two payment providers have the same name")
        self._default = gateways[0]

    def __iter__(self) -> Iterator[PaymentGateway]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the live providers, the default first."""
        return tuple(self._by_name)

    @property
    def default(self) -> PaymentGateway:
        """The provider a checkout uses when it names none."""
        return self._default

    def find(self, name: str) -> PaymentGateway | None:
        """The live provider ``name``, or ``None``."""
        return self._by_name.get(name)

    def get(self, name: str | None) -> PaymentGateway:
        """The live provider ``name`` (the default for ``None``).

        Raises:
            UnknownProvider: no live provider has this name (VALIDATION_ERROR,
                field ``provider``; the message lists the live ones).

        """
        if name is None:
            return self._default
        gateway = self._by_name.get(name)
        if gateway is None:
            raise UnknownProvider(
                f"Unknown payment provider; available: {', '.join(self._by_name)}",
                field="provider",
            )
        return gateway


@dataclass(frozen=True, kw_only=True)
class ProviderContext:
    """What the service tells a provider plug-in when it is built.

    Attributes:
        clock: the time source (signature tolerances, event times).
        public_base_url: the service's public URL, without a trailing slash.
        webhook_url: where this provider's webhooks arrive
            (``<public base URL>/webhook/<name>``).
        production: whether ``ACCESSGATE_ENV=production``.
        plan_refs: the catalogue's reference of each plan code for this
            provider (a Stripe price id), when the catalogue has one.

    """

    clock: Clock
    public_base_url: str
    webhook_url: str
    production: bool = False
    plan_refs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ProviderPlugin(Generic[S]):
    """A payment provider as a plug-in (the object an entry point names).

    Attributes:
        name: the provider name (``PAYMENT_PROVIDERS``, ``/webhook/{name}``,
            the orders' ``provider``); the entry point's name must equal it.
        settings_type: a msgspec Struct: the provider's settings group. Field
            ``webhook_secret`` is read from ``<env_prefix>WEBHOOK_SECRET``;
            fields without a default are required when the provider is listed;
            tuple fields are comma-separated.
        env_prefix: the prefix of its environment variables (``STRIPE_``).
        build: makes the gateway from the settings group and the context; a
            ``ValueError`` stops the start with its message.
        description: one line for the list of providers.

    """

    name: str
    settings_type: type[S]
    env_prefix: str
    build: Callable[[S, ProviderContext], PaymentGateway]
    description: str = ""

    def variable(self, field_name: str) -> str:
        """The environment variable of a field of the settings group."""
        return f"{self.env_prefix}{field_name}".upper()


AnyPlugin = ProviderPlugin[Any]
