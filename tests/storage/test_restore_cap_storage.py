"""The daily cap of restore codes on every storage (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.tokens import DeterministicTokenFactory
from accessgate.domain.model.credentials import CredentialPolicy, TokenCodec
from accessgate.domain.model.outbox import RetryPolicy
from accessgate.domain.usecases.request_restore import RequestRestore
from accessgate.domain.usecases.subscribers import standard_subscribers
from accessgate.ports.unit_of_work import UnitOfWorkFactory

POLICY = CredentialPolicy(otp_max_codes_per_window=2)


async def test_the_window_counters_survive_storage_and_cap_the_codes(
    uow_factory: UnitOfWorkFactory,
) -> None:
    clock = SettableClock()
    tokens = DeterministicTokenFactory()
    # The restore email is written by the RestoreRequested subscriber.
    uow_factory.subscribers = standard_subscribers(  # type: ignore[attr-defined]
        tokens=tokens, retry=RetryPolicy()
    )
    request = RequestRestore(
        uow=uow_factory,
        clock=clock,
        tokens=tokens,
        codec=TokenCodec(b"storage-test-secret-key-0123456789"),
        credentials=POLICY,
    )
    start = clock.now()
    ids = []
    for _ in range(4):  # no order at all: the address is a stranger, and is capped the same
        await request.execute("someone@example.com")
        async with uow_factory(read_only=True) as uow:
            challenge = await uow.otps.get("someone@example.com")
        assert challenge is not None
        ids.append(challenge.id)
        clock.advance(timedelta(minutes=5))
    assert len(set(ids)) == 2
    assert challenge.window_started_at == start
    assert challenge.codes_in_window == 2
    async with uow_factory(read_only=True) as uow:
        assert len(await uow.outbox.list()) == 2
    clock.advance(timedelta(days=1))
    await request.execute("someone@example.com")
    async with uow_factory(read_only=True) as uow:
        renewed = await uow.otps.get("someone@example.com")
        assert len(await uow.outbox.list()) == 3
    assert renewed is not None
    assert renewed.codes_in_window == 1
    assert renewed.window_started_at == clock.now()
