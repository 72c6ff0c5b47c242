"""The composition root: settings -> adapters -> use cases.

Only this module knows which adapter serves which port. :class:`Core` holds
the use cases over injected adapters; :func:`create_container` wires the
adapters the settings name, :func:`create_memory_container` wires everything
in memory (embedding, tests). Adapters with optional dependencies are imported
only when chosen. Nothing is built at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from dependency_injector import containers, providers

from accessgate.adapters.access_client.inprocess import InProcessAccessClient
from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.mailer import RecordingMailer
from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway
from accessgate.adapters.memory.tokens import DeterministicTokenFactory
from accessgate.adapters.memory.tracking import RecordingTrackingSink
from accessgate.adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from accessgate.adapters.system import SecureTokenFactory, SystemClock
from accessgate.catalogue_file import plan_catalog
from accessgate.config import ConfigError, Settings
from accessgate.domain.model.catalogue import PlanCatalog
from accessgate.domain.model.credentials import CredentialPolicy, TokenCodec
from accessgate.domain.model.links import LinkBuilder
from accessgate.domain.model.outbox import Channel, RetryPolicy, target_channel
from accessgate.domain.model.return_link import ReturnLinks
from accessgate.domain.model.values import Locale
from accessgate.domain.usecases.access_status import GetAccessStatus
from accessgate.domain.usecases.activate_access import ActivateAccess
from accessgate.domain.usecases.apply_subscription_event import ApplySubscriptionEvent
from accessgate.domain.usecases.confirm_restore import ConfirmRestore
from accessgate.domain.usecases.deliver_outbox import DeliverOutbox
from accessgate.domain.usecases.describe_activation import DescribeActivation
from accessgate.domain.usecases.describe_checkout import DescribeCheckout
from accessgate.domain.usecases.expire_accesses import ExpireAccesses
from accessgate.domain.usecases.fulfill_payment import FulfillPayment
from accessgate.domain.usecases.handle_payment_events import HandlePaymentEvents
from accessgate.domain.usecases.list_outbox import ListOutbox
from accessgate.domain.usecases.open_account_portal import OpenAccountPortal
from accessgate.domain.usecases.open_customer_portal import OpenCustomerPortal
from accessgate.domain.usecases.read_gauges import ReadGauges
from accessgate.domain.usecases.reconcile_payments import ReconcilePayments
from accessgate.domain.usecases.relay_tracking_event import RelayTrackingEvent
from accessgate.domain.usecases.request_portal_link import RequestPortalLink
from accessgate.domain.usecases.request_restore import RequestRestore
from accessgate.domain.usecases.retry_outbox import RetryOutboxMessages
from accessgate.domain.usecases.session_status import GetSessionStatus
from accessgate.domain.usecases.start_checkout import StartCheckout
from accessgate.domain.usecases.subscribers import standard_subscribers
from accessgate.domain.usecases.telegram_access import DescribeTelegramAccess
from accessgate.ports.access_client import AccessClient
from accessgate.ports.access_target import AccessTarget
from accessgate.ports.access_targets import TargetContext
from accessgate.ports.clock import Clock
from accessgate.ports.mailer import Mailer
from accessgate.ports.payment_gateway import PaymentGateway
from accessgate.ports.payment_providers import PaymentProviders, ProviderContext
from accessgate.ports.tokens import TokenFactory
from accessgate.ports.tracking import TrackingSink
from accessgate.ports.unit_of_work import Subscribers, UnitOfWorkFactory


def return_link_builder(settings: Settings) -> ReturnLinks:
    """Signed links back to an order's success page (keyed with ``SECRET_KEY``)."""
    return ReturnLinks(
        public_base_url=settings.service.app_public_base_url,
        secret=settings.service.secret_key.encode(),
    )


def link_builder(settings: Settings) -> LinkBuilder:
    """Links to the bot (or the activation page) and to the service."""
    return LinkBuilder(
        public_base_url=settings.service.app_public_base_url,
        bot_username=settings.bot.telegram_bot_username,
    )


def credential_policy(settings: Settings) -> CredentialPolicy:
    """Token and code lifetimes and limits."""
    return CredentialPolicy(
        activation_token_ttl=timedelta(days=settings.access.activation_token_ttl_days),
        otp_ttl=timedelta(minutes=settings.access.otp_ttl_minutes),
        otp_max_attempts=settings.access.otp_max_attempts,
        otp_cooldown=timedelta(seconds=settings.access.otp_cooldown_seconds),
        otp_max_codes_per_window=settings.access.restore_max_codes_per_day,
    )


def retry_policy(settings: Settings) -> RetryPolicy:
    """Outbox retry policy."""
    return RetryPolicy(max_attempts=settings.outbox.outbox_max_attempts)


def enabled_channels(settings: Settings) -> frozenset[Channel]:
    """The outbox channels that have somewhere to go."""
    channels = {Channel.EMAIL}
    if settings.relays.mobislon_enabled:
        channels.add(Channel.MOBISLON)
    if settings.relays.meta_enabled:
        channels.add(Channel.META)
    return frozenset(channels)


def token_codec(settings: Settings) -> TokenCodec:
    """The codec keyed with ``SECRET_KEY``."""
    return TokenCodec(settings.service.secret_key.encode())


class Core(containers.DeclarativeContainer):
    """The use cases, over adapters injected by the container factories below."""

    settings = providers.Dependency(instance_of=Settings)
    uow: providers.Dependency[UnitOfWorkFactory] = providers.Dependency()
    payments: providers.Dependency[PaymentProviders] = providers.Dependency()
    mailer: providers.Dependency[Mailer] = providers.Dependency()
    sinks: providers.Dependency[Mapping[Channel, TrackingSink]] = providers.Dependency()
    # The access targets by name (ACCESS_TARGETS; none unless configured).
    targets: providers.Dependency[Mapping[str, AccessTarget]] = providers.Dependency(default={})
    clock: providers.Dependency[Clock] = providers.Dependency()
    tokens: providers.Dependency[TokenFactory] = providers.Dependency()

    # The default provider's gateway (the first of PAYMENT_PROVIDERS).
    gateway = providers.Callable(lambda p: p.default, payments)
    codec = providers.Singleton(token_codec, settings)
    catalog = providers.Singleton(plan_catalog, settings)
    links = providers.Singleton(link_builder, settings)
    return_links = providers.Singleton(return_link_builder, settings)
    credentials = providers.Singleton(credential_policy, settings)
    retry = providers.Singleton(retry_policy, settings)
    channels = providers.Singleton(enabled_channels, settings)
    default_locale = providers.Callable(lambda s: Locale(s.service.default_locale), settings)
    grace = providers.Callable(
        lambda s: timedelta(days=s.catalogue.subscription_grace_days), settings
    )
    lookup_interval = providers.Callable(
        lambda s: timedelta(seconds=s.payments.payment_status_lookup_interval), settings
    )

    start_checkout = providers.Singleton(
        StartCheckout,
        uow=uow,
        providers=payments,
        catalog=catalog,
        clock=clock,
        tokens=tokens,
        default_locale=default_locale,
        return_links=return_links,
    )
    fulfill_payment = providers.Singleton(
        FulfillPayment,
        uow=uow,
        clock=clock,
        tokens=tokens,
        codec=codec,
        catalog=catalog,
        credentials=credentials,
    )
    apply_subscription_event = providers.Singleton(
        ApplySubscriptionEvent, uow=uow, clock=clock, grace=grace, catalog=catalog
    )
    handle_payment_events = providers.Singleton(
        HandlePaymentEvents, fulfill=fulfill_payment, apply=apply_subscription_event
    )
    session_status = providers.Singleton(
        GetSessionStatus,
        uow=uow,
        providers=payments,
        fulfill=fulfill_payment,
        clock=clock,
        codec=codec,
        links=links,
        lookup_interval=lookup_interval,
    )
    reconcile_payments = providers.Singleton(
        ReconcilePayments, uow=uow, providers=payments, fulfill=fulfill_payment, clock=clock
    )
    activate_access = providers.Singleton(ActivateAccess, uow=uow, clock=clock, codec=codec)
    access_status = providers.Singleton(GetAccessStatus, uow=uow, clock=clock)
    request_restore = providers.Singleton(
        RequestRestore,
        uow=uow,
        clock=clock,
        tokens=tokens,
        codec=codec,
        credentials=credentials,
    )
    confirm_restore = providers.Singleton(
        ConfirmRestore,
        uow=uow,
        clock=clock,
        tokens=tokens,
        codec=codec,
        credentials=credentials,
        links=links,
    )
    # The bot's AccessClient when the bot runs in this process (entrypoints/bot).
    telegram_access = providers.Singleton(
        DescribeTelegramAccess, uow=uow, clock=clock, catalog=catalog
    )
    access_client = providers.Singleton(
        InProcessAccessClient,
        describe=telegram_access,
        activate=activate_access,
        request_restore=request_restore,
        confirm_restore=confirm_restore,
    )
    relay_tracking_event = providers.Singleton(
        RelayTrackingEvent, uow=uow, clock=clock, tokens=tokens, retry=retry, channels=channels
    )
    open_customer_portal = providers.Singleton(
        OpenCustomerPortal, uow=uow, providers=payments, links=links
    )
    open_account_portal = providers.Singleton(
        OpenAccountPortal, uow=uow, providers=payments, links=links, clock=clock
    )
    request_portal_link = providers.Singleton(
        RequestPortalLink, uow=uow, clock=clock, tokens=tokens, codec=codec, retry=retry
    )
    describe_checkout = providers.Singleton(DescribeCheckout, uow=uow)
    describe_activation = providers.Singleton(DescribeActivation, uow=uow, codec=codec)
    list_outbox = providers.Singleton(ListOutbox, uow=uow)
    read_gauges = providers.Singleton(ReadGauges, uow=uow, clock=clock)
    retry_outbox = providers.Singleton(RetryOutboxMessages, uow=uow, clock=clock)
    expire_accesses = providers.Singleton(ExpireAccesses, uow=uow, clock=clock)
    deliver_outbox = providers.Singleton(
        DeliverOutbox,
        uow=uow,
        clock=clock,
        tokens=tokens,
        codec=codec,
        links=links,
        mailer=mailer,
        sinks=sinks,
        retry=retry,
        credentials=credentials,
        default_locale=default_locale,
        providers=payments,
        targets=targets,
    )


def create_memory_container(
    settings: Settings | None = None,
    *,
    clock: Any = None,
    tokens: Any = None,
    gateway: Any = None,
    gateways: Any = None,
    targets: Mapping[str, AccessTarget] | None = None,
) -> Core:
    """A container wired entirely with memory adapters (embedding and tests).

    ``gateway`` is the one payment provider (a memory gateway by default);
    ``gateways`` several, the first the default. The adapters are reachable
    for inspection: ``container.uow().store``, ``container.gateway()``,
    ``container.mailer().sent``, ``container.sinks()[Channel.MOBISLON].delivered``.
    ``targets`` are the access targets by name (for example
    ``{"access_webhook": RecordingAccessTarget()}``; each hears the access
    events on its channel ``target:<name>``); none by default.
    """
    settings = settings or Settings.for_tests(accessgate_env="test")
    clock = clock or SettableClock()
    tokens = tokens or DeterministicTokenFactory()
    targets = dict(targets or {})
    if gateways is None:
        gateways = [gateway or MemoryPaymentGateway(secret=b"memory-webhook-secret", clock=clock)]
    sinks: dict[Channel, TrackingSink] = {
        Channel.MOBISLON: RecordingTrackingSink(),
        Channel.META: RecordingTrackingSink(),
    }
    return Core(
        settings=providers.Object(settings),
        catalog=providers.Object(plan_catalog(settings)),
        uow=providers.Object(
            MemoryUnitOfWorkFactory(subscribers=event_subscribers(settings, tokens, targets))
        ),
        payments=providers.Object(PaymentProviders(gateways)),
        mailer=providers.Object(RecordingMailer()),
        sinks=providers.Object(sinks),
        targets=providers.Object(targets),
        clock=providers.Object(clock),
        tokens=providers.Object(tokens),
    )


def create_container(settings: Settings) -> Core:
    """The production container: the adapters the settings name."""
    clock = SystemClock()
    catalog = plan_catalog(settings)  # a broken PLANS_FILE stops here, with one line
    tokens = SecureTokenFactory()
    targets = build_targets(settings, clock)  # a malformed target setting stops here too
    subscribers = event_subscribers(settings, tokens, targets)
    return Core(
        settings=providers.Object(settings),
        catalog=providers.Object(catalog),
        uow=providers.Singleton(build_storage, settings, subscribers),
        targets=providers.Object(targets),
        payments=providers.Singleton(build_payment_providers, settings, clock, catalog),
        mailer=providers.Singleton(build_mailer, settings, catalog),
        sinks=providers.Singleton(build_sinks, settings, clock),
        clock=providers.Object(clock),
        tokens=providers.Object(tokens),
    )


def event_subscribers(
    settings: Settings, tokens: TokenFactory, targets: Mapping[str, AccessTarget]
) -> Subscribers:
    """Who hears the domain events: the emails, the enabled relays, the access targets."""
    return standard_subscribers(
        tokens=tokens,
        retry=retry_policy(settings),
        channels=enabled_channels(settings),
        targets=targets.keys(),
    )


def build_targets(settings: Settings, clock: Clock) -> dict[str, AccessTarget]:
    """The targets of ``ACCESS_TARGETS`` by name, built by their plug-ins (entry points).

    Each gets its settings group (read at start-up; read again from nothing,
    i.e. its defaults, when the settings were made in code) and a context
    naming its outbox channel (``target:<name>``).

    Raises:
        ConfigError: a target is unknown, misconfigured or refuses to start.

    """
    from accessgate import plugins
    from accessgate.config import read_target_settings

    groups = dict(settings.target_settings)
    missing = tuple(n for n in settings.access_targets if n not in groups)
    if missing:
        groups |= read_target_settings(missing, {})
    targets: dict[str, AccessTarget] = {}
    for name in settings.access_targets:
        plugin = plugins.load_target(name)
        context = TargetContext(
            clock=clock,
            public_base_url=settings.service.app_public_base_url.rstrip("/"),
            channel=target_channel(name),
            production=settings.is_production,
        )
        try:
            targets[name] = plugin.build(groups[name], context)
        except ValueError as error:
            raise ConfigError(f"ACCESS_TARGETS: target {name!r} cannot start: {error}") from None
    return targets


def build_storage(settings: Settings, subscribers: Subscribers | None = None) -> UnitOfWorkFactory:
    """The unit-of-work factory of ``DATABASE_URL`` (``memory://`` keeps nothing).

    ``subscribers`` hear the domain events its units of work record.
    """
    if settings.storage.database_url.startswith("memory://"):
        return MemoryUnitOfWorkFactory(subscribers=subscribers)
    from accessgate.adapters.sqlalchemy import SqlUnitOfWorkFactory, create_engine
    from accessgate.adapters.sqlalchemy.engine import SQLITE_MAX_CONNECTIONS, is_sqlite

    storage = settings.storage
    pool_size, max_overflow = storage.database_pool_size, storage.database_max_overflow
    if is_sqlite(storage.database_url):
        pool_size, max_overflow = min(pool_size, SQLITE_MAX_CONNECTIONS), 0
    engine = create_engine(storage.database_url, pool_size=pool_size, max_overflow=max_overflow)
    return SqlUnitOfWorkFactory(
        engine,
        max_connections=pool_size + max_overflow,
        subscribers=subscribers,
        group_commit=storage.database_group_commit,
    )


def build_payment_providers(
    settings: Settings, clock: Clock, catalog: PlanCatalog
) -> PaymentProviders:
    """The gateways of ``PAYMENT_PROVIDERS``, built by their plug-ins (entry points).

    Each gets its settings group (read at start-up; read again from nothing,
    i.e. its defaults, when the settings were made in code) and a context.

    Raises:
        ConfigError: a provider is unknown, misconfigured or refuses to start.

    """
    from accessgate import plugins
    from accessgate.config import read_provider_settings

    base = settings.service.app_public_base_url.rstrip("/")
    groups = dict(settings.provider_settings)
    missing = tuple(n for n in settings.payments.payment_providers if n not in groups)
    if missing:
        groups |= read_provider_settings(missing, {})
    gateways: list[PaymentGateway] = []
    for name in settings.payments.payment_providers:
        plugin = plugins.load(name)
        context = ProviderContext(
            clock=clock,
            public_base_url=base,
            webhook_url=f"{base}/webhook/{name}",
            production=settings.is_production,
            plan_refs={
                p.code: p.provider_refs[name] for p in catalog.plans if name in p.provider_refs
            },
        )
        try:
            gateway = plugin.build(groups[name], context)
        except ValueError as error:
            raise ConfigError(
                f"PAYMENT_PROVIDERS: provider {name!r} cannot start: {error}"
            ) from None
        if gateway.name != name:
            raise ConfigError(
                f"PAYMENT_PROVIDERS: provider {name!r} built a gateway named {gateway.name!r}"
            )
        gateways.append(gateway)
    return PaymentProviders(gateways)


def build_mailer(settings: Settings, catalog: PlanCatalog | None = None) -> Mailer:
    """The mailer: SMTP when ``SMTP_HOST`` is set, else the console (development only).

    Emails name the plans by the catalogue's titles.
    """
    from accessgate.adapters.smtp.renderer import TemplateError, TemplateRenderer

    try:  # renders every template once with sample values: a broken one stops the start
        renderer = TemplateRenderer(
            templates_dir=settings.mail.mail_templates_dir,
            default_locale=settings.service.default_locale,
            plan_titles=(catalog or plan_catalog(settings)).titles(),
        )
    except TemplateError as error:
        raise ConfigError(f"MAIL_TEMPLATES_DIR: a mail template is broken: {error}") from None
    if settings.mail.smtp_host:
        from accessgate.adapters.smtp.mailer import SmtpMailer

        return SmtpMailer(
            renderer=renderer,
            sender=settings.mail.smtp_from or settings.mail.smtp_username or "",
            host=settings.mail.smtp_host,
            port=settings.mail.smtp_port,
            username=settings.mail.smtp_username,
            password=settings.mail.smtp_password,
            starttls=settings.mail.smtp_starttls,
            timeout=settings.mail.smtp_timeout,
        )
    from accessgate.adapters.console.mailer import ConsoleMailer

    return ConsoleMailer(renderer)


def build_sinks(settings: Settings, clock: Clock) -> dict[Channel, TrackingSink]:
    """The tracking sinks that are configured."""
    sinks: dict[Channel, TrackingSink] = {}
    if settings.relays.meta_pixel_id and settings.relays.meta_access_token:
        from accessgate.adapters.meta import MetaConversionsSink

        sinks[Channel.META] = MetaConversionsSink(
            pixel_id=settings.relays.meta_pixel_id,
            access_token=settings.relays.meta_access_token,
            clock=clock,
            api_version=settings.relays.meta_graph_api_version,
            api_base=settings.relays.meta_graph_api_base,
            test_event_code=settings.relays.meta_test_event_code,
            site_url=settings.service.app_public_base_url,
        )
    if settings.relays.mobislon_postback_url:
        from accessgate.adapters.mobislon import MobislonPostbackSink

        try:
            sinks[Channel.MOBISLON] = MobislonPostbackSink(
                settings.relays.mobislon_postback_url, method=settings.relays.mobislon_method
            )
        except ValueError as error:
            raise ConfigError(f"MOBISLON_POSTBACK_URL: {error}") from None
    return sinks


async def start_services(container: Core) -> None:
    """Check the storage schema before serving (auto-upgrading a SQLite file).

    Raises:
        StorageError: the database is unreachable, or its schema is outdated
            (the message names ``accessgate migrate``).
    """
    settings: Settings = container.settings()
    storage = container.uow()
    engine = getattr(storage, "engine", None)
    if engine is not None:
        from accessgate.adapters.sqlalchemy.migrate import ensure_schema_current

        await ensure_schema_current(engine, auto_upgrade=settings.storage.database_auto_migrate)
        if engine.dialect.name == "sqlite":
            # The units of work open their own sqlite3 connections: the engine's
            # (aiosqlite, a polling thread each) served the check only.
            await engine.dispose()


async def stop_services(container: Core) -> None:
    """Close what the adapters opened: connection pools and HTTP clients."""
    for adapter in (*container.payments(), container.uow()):
        closer = getattr(adapter, "aclose", None) or getattr(adapter, "dispose", None)
        if closer is not None:
            await closer()
    for sink in (*container.sinks().values(), *container.targets().values()):
        closer = getattr(sink, "aclose", None)
        if closer is not None:
            await closer()


def bot_access_client(container: Core) -> AccessClient:
    """The bot's AccessClient: HTTP to ``BOT_ACCESS_API_URL`` when set, else in-process.

    The HTTP client calls a separate accessgate service's ``/api/bot/*`` with
    ``INTERNAL_API_TOKEN`` (close it with ``aclose()``); the in-process one calls
    this container's use cases.
    """
    bot = container.settings().bot
    if bot.bot_access_api_url:
        from accessgate.adapters.access_client.http import HttpAccessClient

        return HttpAccessClient(bot.bot_access_api_url, bot.internal_api_token or "")
    client: AccessClient = container.access_client()
    return client
