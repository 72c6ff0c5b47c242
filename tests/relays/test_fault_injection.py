"""Faults through the real outbox: a flaky tracker, an outage, and a worker that dies."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.tokens import DeterministicTokenFactory
from accessgate.adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from accessgate.adapters.mobislon import MobislonPostbackSink
from accessgate.domain.model.outbox import Channel, OutboxStatus, RetryPolicy
from accessgate.domain.usecases.deliver_outbox import DeliverOutbox
from accessgate.domain.usecases.relay_tracking_event import (
    MOBISLON_STATUSES,
    RelayTrackingEvent,
    TrackingCommand,
)
from tests.relays.conftest import BINOM, deliver_outbox
from tests.relays.servers import Tracker

RETRY = RetryPolicy(base=timedelta(seconds=5), cap=timedelta(minutes=10), max_attempts=40)
LEASE = timedelta(minutes=2)


class World:
    """Memory storage, a settable clock, and the funnel writing to the outbox."""

    def __init__(self) -> None:
        self.uow = MemoryUnitOfWorkFactory()
        self.clock = SettableClock()
        self.tokens = DeterministicTokenFactory(jitter=0.5)
        self.relay = RelayTrackingEvent(
            uow=self.uow,
            clock=self.clock,
            tokens=self.tokens,
            retry=RETRY,
            channels=frozenset({Channel.MOBISLON}),
        )

    async def funnel(self, clickids: list[str]) -> set[tuple[str, str]]:
        expected = set()
        for clickid in clickids:
            for status in sorted(MOBISLON_STATUSES):
                command = TrackingCommand(channel=Channel.MOBISLON, status=status, clickid=clickid)
                await self.relay.execute(command)
                expected.add((clickid, status))
        return expected

    def worker(self, tracker: Tracker, timeout: float = 5.0) -> DeliverOutbox:
        sink = MobislonPostbackSink(tracker.server.base_url + BINOM, timeout=timeout)
        return deliver_outbox(
            self.uow, self.clock, self.tokens, {Channel.MOBISLON: sink}, RETRY, lease=LEASE
        )

    def statuses(self) -> list[OutboxStatus]:
        return [m.status for m in self.uow.store.tables.outbox.values()]


async def test_flaky_tracker_and_outage_deliver_everything_once(tracker: Tracker) -> None:
    tracker.failure_rate = 0.3
    tracker.hang_seconds = 0.8
    world = World()
    expected = await world.funnel([f"clk-{n}" for n in range(8)])
    worker = world.worker(tracker, timeout=0.5)
    rounds = 0
    for rounds in range(1, 41):  # bounded: at most 40 rounds
        if rounds == 2:
            await tracker.server.down()
        if rounds == 7:
            await tracker.server.up()
        await worker.execute(limit=100)
        if all(s is OutboxStatus.DELIVERED for s in world.statuses()):
            break
        world.clock.advance(RETRY.cap)
    assert all(s is OutboxStatus.DELIVERED for s in world.statuses()), rounds
    assert set(tracker.counted) == expected
    assert set(tracker.counted.values()) == {1}
    assert tracker.faults["500"] > 0
    assert tracker.faults["hang"] > 0
    assert len(tracker.server.received) > len(expected)
    attempts = [m.attempts for m in world.uow.store.tables.outbox.values()]
    assert max(attempts) >= 5  # the outage spanned several rounds


async def test_worker_that_claims_and_dies_is_replaced_after_the_lease(tracker: Tracker) -> None:
    world = World()
    expected = await world.funnel(["clk-a", "clk-b"])  # 18 messages (9 public statuses each)
    first = world.worker(tracker)
    report = await first.execute(limit=5)
    assert report.delivered == 5
    delivered_first = set(tracker.counted)

    # A second worker claims ten messages and dies before sending or recording anything.
    now = world.clock.now()
    async with world.uow() as tx:
        dead_claims = await tx.outbox.claim_due(now, 10, now + LEASE)
        await tx.commit()
    assert len(dead_claims) == 10

    # A restarted worker takes what is free now; the dead claims wait for their lease.
    restarted = world.worker(tracker)
    report = await restarted.execute(limit=100)
    assert report.claimed == len(expected) - 15
    world.clock.advance(LEASE + timedelta(seconds=1))
    report = await world.worker(tracker).execute(limit=100)
    assert report.claimed == 10
    assert report.delivered == 10

    assert all(s is OutboxStatus.DELIVERED for s in world.statuses())
    assert set(tracker.counted) == expected
    assert set(tracker.counted.values()) == {1}
    assert len(tracker.server.received) == len(expected)
    received_first = [(r.query["cnv_id"], r.query["cnv_status"]) for r in tracker.server.received]
    assert all(received_first.count(key) == 1 for key in delivered_first)


async def test_worker_killed_while_postbacks_are_in_flight(tracker: Tracker) -> None:
    """The one window of a repeat: the tracker processed a postback, the worker died
    before recording it. After the lease that message is sent again (at least once);
    every message recorded delivered, or never sent, reaches the tracker exactly once.
    """
    world = World()
    expected = await world.funnel(["clk-z"])  # 10 messages
    report = await world.worker(tracker).execute(limit=4)
    assert report.delivered == 4
    delivered_before = set(tracker.counted)

    tracker.hold = asyncio.Event()
    doomed = asyncio.create_task(world.worker(tracker).execute(limit=3))
    for _ in range(200):  # bounded wait until the three postbacks reach the tracker
        if sum(tracker.counted.values()) == 7:
            break
        await asyncio.sleep(0.01)
    in_flight = set(tracker.counted) - delivered_before
    assert len(in_flight) == 3
    doomed.cancel()
    await asyncio.gather(doomed, return_exceptions=True)
    tracker.hold.set()
    tracker.hold = None

    world.clock.advance(LEASE + timedelta(seconds=1))
    for _ in range(3):
        await world.worker(tracker).execute(limit=100)
    assert all(s is OutboxStatus.DELIVERED for s in world.statuses())
    assert set(tracker.counted) == expected
    assert {k: v for k, v in tracker.counted.items() if v != 1} == dict.fromkeys(in_flight, 2)
