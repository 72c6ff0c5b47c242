"""Fixtures: the local Graph API and tracker, and an outbox wired with the real sinks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import timedelta

import pytest

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.mailer import RecordingMailer
from accessgate.adapters.memory.tokens import DeterministicTokenFactory
from accessgate.adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from accessgate.domain.model.credentials import CredentialPolicy, TokenCodec
from accessgate.domain.model.links import LinkBuilder
from accessgate.domain.model.outbox import Channel, RetryPolicy
from accessgate.domain.usecases.deliver_outbox import DeliverOutbox
from accessgate.ports.tracking import TrackingSink
from tests.relays.servers import StubServer, Tracker

BINOM = "/index.php?cnv_id={clickid}&payout=0&cnv_status={status}"
TOKEN = "EAAB-secret-access-token-0123456789"
PIXEL = "1234567890"


@pytest.fixture
async def graph() -> AsyncIterator[StubServer]:
    server = StubServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def tracker() -> AsyncIterator[Tracker]:
    server = StubServer()
    await server.start()
    yield Tracker(server)
    await server.stop()


def deliver_outbox(
    uow: MemoryUnitOfWorkFactory,
    clock: SettableClock,
    tokens: DeterministicTokenFactory,
    sinks: Mapping[Channel, TrackingSink],
    retry: RetryPolicy,
    lease: timedelta = timedelta(minutes=2),
    mailer: RecordingMailer | None = None,
) -> DeliverOutbox:
    """A DeliverOutbox over memory storage and the given sinks (a new worker each call)."""
    return DeliverOutbox(
        uow=uow,
        clock=clock,
        tokens=tokens,
        codec=TokenCodec(b"k" * 32),
        links=LinkBuilder(public_base_url="https://gate.example", bot_username="gate_bot"),
        mailer=mailer or RecordingMailer(),
        sinks=sinks,
        retry=retry,
        credentials=CredentialPolicy(),
        lease=lease,
    )
