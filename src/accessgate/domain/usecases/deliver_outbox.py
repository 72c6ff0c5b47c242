"""DeliverOutbox: send due outbox messages through the Mailer and tracking sinks."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import msgspec

from accessgate.domain.model.credentials import CredentialPolicy, TokenCodec
from accessgate.domain.model.errors import DeliveryFailed, DomainError, ServiceUnavailable
from accessgate.domain.model.links import LinkBuilder
from accessgate.domain.model.outbox import (
    Channel,
    EmailTemplate,
    OutboxMessage,
    OutboxStatus,
    RetryPolicy,
    target_of,
)
from accessgate.domain.model.values import Locale
from accessgate.domain.usecases._portal import open_portal, portal_order
from accessgate.domain.usecases.request_restore import restorable_order
from accessgate.ports.access_target import AccessChange, AccessChangeType, AccessTarget
from accessgate.ports.clock import Clock
from accessgate.ports.mailer import EmailMessage, Mailer
from accessgate.ports.payment_providers import PaymentProviders
from accessgate.ports.tokens import TokenFactory
from accessgate.ports.tracking import TrackingEvent, TrackingSink
from accessgate.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory


class DeliveryReport(msgspec.Struct, kw_only=True):
    """What one batch did."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    discarded: int = 0
    # For an access target not configured in this process: left pending, not attempted.
    postponed: int = 0


class _Skip(Exception):
    """A message with nothing left to send."""


class _NoTarget(Exception):
    """A message for an access target that is not configured here: not attempted."""


# What became of one message: sent (None), failed, nothing to send, or not here to send.
_Outcome = DeliveryFailed | _Skip | _NoTarget | None


class DeliverOutbox:
    """Deliver one batch of due messages.

    Rules:
        * Messages are claimed with a lease in their own transaction, so several
          workers never claim the same message; a worker that dies leaves its
          claims to be taken again when the lease runs out.
        * Each message is sent outside any transaction; the result is then
          recorded: delivered (never sent again), retried later with exponential
          backoff and jitter, or ``failed`` after the attempt cap or a permanent error.
        * Emails carry their secret only in flight: the link or code is derived
          from the current token or challenge when the email is sent. An email
          whose code was replaced or used is discarded.
        * Restore codes and portal links are asked for by any address; the
          buyer is looked up here, and an address without a restorable order
          (or without a portal customer) is sent nothing: the message is
          discarded. A portal session is opened with the order's own provider just before
          its email is sent, outside any transaction.
        * Tracking events go to their channel's sink in one batch per channel.
        * Access changes go to the access target their channel names
          (``target:<name>``), one call per message (at most
          ``target_concurrency`` at once per target), with the message id as
          the change's stable id.
        * A change for a target that is not configured here (taken out of
          ``ACCESS_TARGETS``, or a worker started without it) is not attempted:
          it stays pending, its attempts untouched, due again after
          ``absent_target_delay``, with the reason in ``last_error``; it is
          delivered once a worker that has the target takes it.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        tokens: TokenFactory,
        codec: TokenCodec,
        links: LinkBuilder,
        mailer: Mailer,
        sinks: Mapping[Channel, TrackingSink],
        retry: RetryPolicy,
        credentials: CredentialPolicy,
        lease: timedelta = timedelta(minutes=2),
        default_locale: Locale = Locale.EN,
        providers: PaymentProviders | None = None,
        targets: Mapping[str, AccessTarget] | None = None,
        target_concurrency: int = 8,
        absent_target_delay: timedelta = timedelta(minutes=5),
    ) -> None:
        self._uow = uow
        self._targets = dict(targets or {})
        self._target_slots = max(1, target_concurrency)
        self._absent_target_delay = absent_target_delay
        self._clock = clock
        self._tokens = tokens
        self._codec = codec
        self._links = links
        self._mailer = mailer
        self._sinks = sinks
        self._retry = retry
        self._credentials = credentials
        self._lease = lease
        self._default_locale = default_locale
        self._providers = providers

    async def execute(self, limit: int = 100) -> DeliveryReport:
        """Claim up to ``limit`` due messages and deliver them."""
        now = self._clock.now()
        async with self._uow() as uow:
            claimed = await uow.outbox.claim_due(now, limit, now + self._lease)
            await uow.commit()
        report = DeliveryReport(claimed=len(claimed))
        if not claimed:
            return report
        results: dict[str, _Outcome] = {}
        emails = [m for m in claimed if m.channel == Channel.EMAIL]
        if emails:
            results |= await self._send_emails(emails)
        by_channel: dict[str, list[OutboxMessage]] = defaultdict(list)
        for message in claimed:
            if message.channel != Channel.EMAIL:
                by_channel[message.channel].append(message)
        for channel, messages in by_channel.items():
            name = target_of(channel)
            if name is None:
                results |= await self._send_tracking(channel, messages)
                continue
            target = self._targets.get(name)
            if target is None:
                absent = _NoTarget(f"access target {name!r} is not configured here; kept pending")
                results |= {m.id: absent for m in messages}
            else:
                results |= await self._send_changes(target, messages)
        await self._record(claimed, results, report)
        return report

    async def _send_emails(
        self, messages: list[OutboxMessage]
    ) -> dict[str, DeliveryFailed | _Skip | None]:
        results: dict[str, DeliveryFailed | _Skip | None] = {}
        rendered: list[tuple[OutboxMessage, EmailMessage]] = []
        async with self._uow() as uow:
            for message in messages:
                try:
                    rendered.append((message, await self._email_of(uow, message)))
                except _Skip as skip:
                    results[message.id] = skip

        async def send(message: OutboxMessage, email: EmailMessage) -> None:
            try:
                if email.template is EmailTemplate.CUSTOMER_PORTAL:
                    email = await self._with_portal_link(email)
                await self._mailer.send(email)
                results[message.id] = None
            except (DeliveryFailed, _Skip) as error:
                results[message.id] = error
            except Exception as error:
                results[message.id] = DeliveryFailed(f"{type(error).__name__}", retryable=True)

        await asyncio.gather(*(send(m, e) for m, e in rendered))
        return results

    async def _email_of(self, uow: UnitOfWork, message: OutboxMessage) -> EmailMessage:
        payload = message.payload
        template = EmailTemplate(payload["template"])
        if template is EmailTemplate.ACCESS:
            order = await uow.orders.get(payload["order_id"])
            token = await uow.tokens.get_current(payload["order_id"])
            if order is None or token is None:
                raise _Skip("the order has no current activation token")
            link = self._links.activation_link(self._codec.activation_token(token.seed))
            context = {"activation_link": link, "plan": order.plan, "order_id": order.id}
            return EmailMessage(
                message_id=message.id,
                to=order.email,
                template=template,
                locale=order.locale,
                context=context,
            )
        if template is EmailTemplate.CUSTOMER_PORTAL:
            return await self._portal_email_of(uow, message)
        challenge = await uow.otps.get_by_id(payload["challenge_id"])
        now = self._clock.now()
        if challenge is None or challenge.consumed_at is not None or now >= challenge.expires_at:
            raise _Skip("the code was replaced, used or expired before it could be sent")
        order = await restorable_order(uow, challenge.email)
        if order is None:
            raise _Skip("no restorable order for the address: nothing sent")
        minutes = int(self._credentials.otp_ttl.total_seconds() // 60)
        return EmailMessage(
            message_id=message.id,
            to=challenge.email,
            template=template,
            locale=order.locale,
            context={"code": self._codec.otp_code(challenge.seed), "ttl_minutes": str(minutes)},
        )

    async def _portal_email_of(self, uow: UnitOfWork, message: OutboxMessage) -> EmailMessage:
        """The portal email without its link (opened at send time), or skip the address."""
        if self._providers is None:
            raise _Skip("no payment provider to open a portal with")
        email = message.payload["email"]
        order = portal_order(await uow.orders.list_by_email(email), self._providers)
        if order is None or order.provider_customer_id is None:
            raise _Skip("no portal customer for the address: nothing sent")
        return EmailMessage(
            message_id=message.id,
            to=email,
            template=EmailTemplate.CUSTOMER_PORTAL,
            locale=order.locale,
            context={
                "customer_id": order.provider_customer_id,
                "provider": order.provider,
                "plan": order.plan,
            },
        )

    async def _with_portal_link(self, email: EmailMessage) -> EmailMessage:
        """Open the order's own provider's portal session; its link replaces the customer id."""
        if self._providers is None:
            raise _Skip("no payment provider to open a portal with")
        context = dict(email.context)
        customer = context.pop("customer_id")
        provider = context.pop("provider")
        try:
            context["portal_link"] = await open_portal(
                self._providers, provider, customer, self._links.url("/pay")
            )
        except ServiceUnavailable as error:
            raise DeliveryFailed(error.message, retryable=True) from None
        except DomainError as error:  # the provider has no portal or refused it
            raise _Skip(f"no portal: {error.message}") from None
        return msgspec.structs.replace(email, context=context)

    async def _send_tracking(
        self, name: str, messages: list[OutboxMessage]
    ) -> dict[str, DeliveryFailed | _Skip | None]:
        try:
            channel = Channel(name)
        except ValueError:
            failure = DeliveryFailed(f"unknown channel {name[:80]!r}", retryable=False)
            return {m.id: failure for m in messages}
        sink = self._sinks.get(channel)
        if sink is None:
            failure = DeliveryFailed(f"no sink configured for {channel}", retryable=False)
            return {m.id: failure for m in messages}
        events = [
            TrackingEvent(message_id=m.id, channel=channel, payload=m.payload) for m in messages
        ]
        try:
            outcomes = await sink.deliver(events)
        except Exception as error:
            outcomes = [DeliveryFailed(type(error).__name__) for _ in events]
        return {m.id: outcome for m, outcome in zip(messages, outcomes, strict=True)}

    async def _send_changes(
        self, target: AccessTarget, messages: list[OutboxMessage]
    ) -> dict[str, DeliveryFailed | _Skip | None]:
        results: dict[str, DeliveryFailed | _Skip | None] = {}
        slots = asyncio.Semaphore(self._target_slots)

        async def send(message: OutboxMessage) -> None:
            try:
                change = access_change_of(message)
            except (KeyError, ValueError, msgspec.ValidationError):
                results[message.id] = DeliveryFailed("malformed access change", retryable=False)
                return
            async with slots:
                try:
                    await target.apply(change)
                    results[message.id] = None
                except DeliveryFailed as error:
                    results[message.id] = error
                except Exception as error:
                    results[message.id] = DeliveryFailed(type(error).__name__, retryable=True)

        await asyncio.gather(*(send(m) for m in messages))
        return results

    async def _record(
        self,
        claimed: list[OutboxMessage],
        results: Mapping[str, _Outcome],
        report: DeliveryReport,
    ) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            for message in claimed:
                outcome = results.get(message.id, DeliveryFailed("not attempted"))
                updated = self._after(message, outcome, now)
                await uow.outbox.update(updated)
                if isinstance(outcome, _NoTarget):
                    report.postponed += 1
                elif updated.status is OutboxStatus.DELIVERED:
                    report.delivered += 1
                elif updated.status is OutboxStatus.DISCARDED:
                    report.discarded += 1
                elif updated.status is OutboxStatus.FAILED:
                    report.failed += 1
                else:
                    report.retrying += 1
            await uow.commit()

    def _after(self, message: OutboxMessage, outcome: _Outcome, now: datetime) -> OutboxMessage:
        if outcome is None:
            return message.delivered(now)
        if isinstance(outcome, _NoTarget):
            return message.postponed(str(outcome), now + self._absent_target_delay)
        if isinstance(outcome, _Skip):
            return message.discarded(str(outcome))
        return message.failed_attempt(
            outcome.reason,
            retryable=outcome.retryable,
            now=now,
            policy=self._retry,
            jitter=self._tokens.jitter(),
        )


def access_change_of(message: OutboxMessage) -> AccessChange:
    """The access change an outbox message carries; its id is the message id."""
    payload: dict[str, Any] = dict(message.payload)
    raw: dict[str, Any] = {
        "id": message.id,
        "type": AccessChangeType(payload.pop("type")),
        **payload,
    }
    if "telegram_user_id" in raw:
        raw["telegram_user_id"] = int(raw["telegram_user_id"])
    return msgspec.convert(raw, AccessChange, strict=False)
