"""The repository contract, on memory, SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta

import msgspec
import pytest

from accessgate.domain.model.errors import StorageError
from accessgate.domain.model.outbox import Channel, OutboxStatus
from accessgate.domain.model.status import AccessStatus, PaymentStatus
from accessgate.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from tests.storage import helpers as h

T1 = h.T0 + timedelta(hours=1)


async def seed_orders(factory: UnitOfWorkFactory, *numbers: int) -> None:
    async with factory() as uow:
        for n in numbers:
            await uow.orders.add(h.order(n, at=h.T0 + timedelta(minutes=n)))
            await uow.accesses.add(h.access(f"ord_{n}"))
        await uow.commit()


async def test_orders_round_trip_and_lookups(uow_factory: UnitOfWorkFactory) -> None:
    await seed_orders(uow_factory, 1, 2)
    async with uow_factory() as uow:
        stored = await uow.orders.get("ord_1", for_update=True)
        assert stored == h.order(1, at=h.T0 + timedelta(minutes=1))
        assert stored is not None
        assert stored.created_at.utcoffset() == timedelta(0)
        assert stored.created_at.tzinfo is not None
        assert await uow.orders.get("ord_9") is None
        assert await uow.orders.get_by_session_id("cs_2") == await uow.orders.get("ord_2")
        assert await uow.orders.get_by_session_id("cs_9", for_update=True) is None
        assert await uow.orders.get_by_subscription_id("sub_1") is None
        assert await uow.orders.get_by_payment_id("pi_1") is None
        paid = stored.with_provider_refs(
            T1, customer_id="cus_1", subscription_id="sub_1", payment_id="pi_1"
        ).with_payment_status(PaymentStatus.PAID, T1)
        await uow.orders.update(paid)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.orders.get_by_subscription_id("sub_1", for_update=True) == paid
        assert await uow.orders.get_by_payment_id("pi_1", for_update=True) == paid
        assert (await uow.orders.get("ord_1")) == paid


async def test_orders_of_an_email_newest_first(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for n, minutes in ((1, 5), (2, 9), (3, 1)):
            await uow.orders.add(h.order(n, at=h.T0 + timedelta(minutes=minutes)))
        await uow.orders.add(h.order(4, email="other@example.com"))
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.orders.list_by_email("buyer@example.com")
        assert [o.id for o in found] == ["ord_2", "ord_1", "ord_3"]
        assert await uow.orders.list_by_email("nobody@example.com") == []


async def test_updating_a_missing_row_is_an_error(uow_factory: UnitOfWorkFactory) -> None:
    await seed_orders(uow_factory, 1)
    missing = [
        lambda uow: uow.orders.update(h.order(9)),
        lambda uow: uow.accesses.update(h.access("ord_9")),
        lambda uow: uow.tokens.update(h.token("ord_1", 9)),
        lambda uow: uow.otps.update(h.otp("nobody@example.com", 9)),
        lambda uow: uow.outbox.update(h.message(9)),
    ]

    async def attempt_and_commit(attempt: Callable[[UnitOfWork], Awaitable[object]]) -> None:
        async with uow_factory() as uow:
            await attempt(uow)
            await uow.commit()

    for attempt in missing:
        with pytest.raises(StorageError):  # at the call, or at the latest by the commit
            await attempt_and_commit(attempt)


async def test_accesses_by_telegram_user(uow_factory: UnitOfWorkFactory) -> None:
    await seed_orders(uow_factory, 1, 2, 3)
    async with uow_factory() as uow:
        for n, minutes in ((1, 3), (2, 7)):
            current = await uow.accesses.get(f"ord_{n}", for_update=True)
            assert current is not None
            active = current.issue_token(None, h.T0, h.T0).activate(
                42, h.T0 + timedelta(minutes=minutes)
            )
            await uow.accesses.update(active)
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.accesses.list_by_telegram_user(42)
        assert [a.order_id for a in found] == ["ord_2", "ord_1"]
        assert found[0].status is AccessStatus.ACTIVE
        assert found[0].telegram_user_id == 42
        assert found[0].valid_until == h.T0 + timedelta(days=30)
        assert await uow.accesses.list_by_telegram_user(7) == []
        assert await uow.accesses.get("ord_9") is None
    async with uow_factory(read_only=True) as uow:
        # A reading unit (the bot's access status) reads them with their orders.
        read = await uow.accesses.list_by_telegram_user(42)
        assert read == found
        assert await uow.orders.get("ord_2") == h.order(2, at=h.T0 + timedelta(minutes=2))
        assert await uow.accesses.get("ord_1") == found[1]
        # not read ahead: read now
        assert await uow.orders.get("ord_3") == h.order(3, at=h.T0 + timedelta(minutes=3))
        assert await uow.accesses.list_by_telegram_user(7) == []


async def test_tokens_by_hash_and_current(uow_factory: UnitOfWorkFactory) -> None:
    await seed_orders(uow_factory, 1)
    old, new = h.token("ord_1", 1), h.token("ord_1", 2, at=T1)
    async with uow_factory() as uow:
        assert await uow.tokens.get_current("ord_1") is None
        await uow.tokens.add(old)
        assert await uow.tokens.get_current("ord_1") == old
        await uow.tokens.add(new)
        assert await uow.tokens.get_current("ord_1") == new
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.tokens.get_by_hash(old.token_hash, for_update=True) == old
        assert await uow.tokens.get_by_hash("unknown") is None
        await uow.tokens.update(new.revoke(T1))
        assert await uow.tokens.get_current("ord_1") == old
        await uow.tokens.update(old.revoke(T1).use(5, T1))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.tokens.get_current("ord_1") is None
        stored = await uow.tokens.get_by_hash(old.token_hash)
        assert stored == old.revoke(T1).use(5, T1)


async def test_one_restore_challenge_per_email(uow_factory: UnitOfWorkFactory) -> None:
    email = "buyer@example.com"
    async with uow_factory() as uow:
        assert await uow.otps.get(email, for_update=True) is None
        await uow.otps.replace(h.otp(email, 1))
        await uow.otps.replace(h.otp("other@example.com", 2))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.otps.get(email) == h.otp(email, 1)
        await uow.otps.replace(h.otp(email, 3, at=T1))
        assert await uow.otps.get_by_id("otp_1") is None
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.otps.get(email, for_update=True) == h.otp(email, 3, at=T1)
        assert await uow.otps.get_by_id("otp_3") == h.otp(email, 3, at=T1)
        assert await uow.otps.get_by_id("otp_2") == h.otp("other@example.com", 2)

        async def update_then_read() -> None:
            await uow.otps.update(h.otp(email, 1).failed_attempt())
            await uow.otps.get(email)

        with pytest.raises(StorageError):  # at the call, or at the latest by the next read
            await update_then_read()
    async with uow_factory() as uow:
        burnt = h.otp(email, 3, at=T1).failed_attempt().consume(T1)
        await uow.otps.update(burnt)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.otps.get_by_id("otp_3") == burnt


async def test_outbox_add_all_stores_new_keys_and_skips_known_ones(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        assert await uow.outbox.add(h.message(1))
        await uow.outbox.add_all([])
        known = msgspec.structs.replace(h.message(1), id="msg_other")
        await uow.outbox.add_all([h.message(2), known, h.message(3, channel=Channel.EMAIL)])
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.get("msg_other") is None
        assert await uow.outbox.get("msg_000003") == h.message(3, channel=Channel.EMAIL)
        assert [m.id for m in await uow.outbox.list()] == ["msg_000001", "msg_000002", "msg_000003"]


async def test_outbox_add_get_list_update(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        for n in (3, 1, 2):
            assert await uow.outbox.add(h.message(n, at=h.T0 + timedelta(seconds=n)))
        assert not await uow.outbox.add(msgspec.structs.replace(h.message(1), id="msg_other"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.get("msg_000002") == h.message(2, at=h.T0 + timedelta(seconds=2))
        assert await uow.outbox.get("msg_other") is None
        listed = await uow.outbox.list()
        assert [m.id for m in listed] == ["msg_000001", "msg_000002", "msg_000003"]
        assert [m.id for m in await uow.outbox.list(limit=2)] == ["msg_000001", "msg_000002"]
        delivered = listed[0].delivered(T1)
        await uow.outbox.update(delivered)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.get("msg_000001") == delivered
        assert delivered.delivered_at is not None
        assert delivered.delivered_at.tzinfo is UTC
        assert [m.id for m in await uow.outbox.list(OutboxStatus.DELIVERED)] == ["msg_000001"]
        assert len(await uow.outbox.list(OutboxStatus.PENDING)) == 2
        assert await uow.outbox.list(OutboxStatus.FAILED) == []


async def test_outbox_claims_due_messages_with_a_lease(uow_factory: UnitOfWorkFactory) -> None:
    now = h.T0 + timedelta(minutes=10)
    lease = now + timedelta(minutes=2)
    async with uow_factory() as uow:
        for n in range(1, 6):
            await uow.outbox.add(h.message(n, at=h.T0 + timedelta(minutes=n)))
        later = msgspec.structs.replace(h.message(6), next_attempt_at=now + timedelta(seconds=1))
        await uow.outbox.add(later)
        await uow.outbox.add(h.message(7).delivered(h.T0))
        await uow.commit()
    async with uow_factory() as uow:
        claimed = await uow.outbox.claim_due(now, 3, lease)
        await uow.commit()
    assert [m.id for m in claimed] == ["msg_000001", "msg_000002", "msg_000003"]
    assert all(m.locked_until == lease for m in claimed)
    async with uow_factory() as uow:
        assert (await uow.outbox.get("msg_000001")) == claimed[0]
        again = await uow.outbox.claim_due(now, 10, lease)
        assert [m.id for m in again] == ["msg_000004", "msg_000005"]
        assert await uow.outbox.claim_due(now, 10, lease) == []
        await uow.commit()
    async with uow_factory() as uow:
        # Leases run out: everything pending and due is claimable again.
        expired = await uow.outbox.claim_due(lease, 10, lease + timedelta(minutes=2))
        assert [m.id for m in expired] == [f"msg_{n:06d}" for n in range(1, 7)]
    async with uow_factory() as uow:
        # That claim was rolled back: the first leases still hold.
        assert await uow.outbox.claim_due(now, 10, lease) == []


async def test_a_reading_unit_sees_an_order_with_its_access_and_current_token(
    uow_factory: UnitOfWorkFactory,
) -> None:
    # Session status reads all three in a read-only unit (one statement on SQL).
    async with uow_factory() as uow:
        await uow.orders.add(h.order(1))
        await uow.accesses.add(h.access("ord_1"))
        await uow.tokens.add(h.token("ord_1", 1))
        await uow.tokens.add(h.token("ord_1", 2, at=T1))
        await uow.orders.add(h.order(2))
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        order = await uow.orders.get_by_session_id("cs_1")
        assert order == h.order(1)
        assert await uow.accesses.get("ord_1") == h.access("ord_1")
        assert await uow.tokens.get_current("ord_1") == h.token("ord_1", 2, at=T1)
        assert await uow.orders.get("ord_2") == h.order(2)
        assert await uow.accesses.get("ord_2") is None
        assert await uow.tokens.get_current("ord_2") is None
