"""The outbox delivery loop, shared by ``accessgate worker`` and ``accessgate serve``.

The loop calls ``DeliverOutbox.execute(batch_size)`` again at once while batches
come back full, and otherwise every ``poll_interval`` seconds, until it is
asked to stop. A failing batch is logged and retried at the next tick: the loop
never dies of an error. Several loops (processes, replicas) may run at once:
the outbox claims messages with a lease, so none is sent twice by two loops.

The same loop runs the expiry job: every ``expiry_interval`` seconds (and at
once again while its batches come back full) ``ExpireAccesses`` stores lapsed
accesses as expired, which records ``AccessExpired`` for the access targets;
the messages it writes go out with the next delivery batch. Several loops may
expire at once: the job locks its rows and skips those another one holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time

from accessgate.config import Settings
from accessgate.container import Core, start_services, stop_services
from accessgate.domain.usecases.deliver_outbox import DeliverOutbox
from accessgate.domain.usecases.expire_accesses import ExpireAccesses
from accessgate.entrypoints.heap import freeze_startup_objects

log = logging.getLogger("accessgate.worker")


class OutboxLoop:
    """A delivery loop that can be started and stopped (a background task).

    Args:
        deliver: the DeliverOutbox use case.
        batch_size: the most messages claimed per batch.
        poll_interval: seconds between batches when there is nothing to do.
        expire: the ExpireAccesses use case, or ``None`` to run no expiry job.
        expiry_interval: seconds between expiry batches (while none comes back full).

    """

    def __init__(
        self,
        deliver: DeliverOutbox,
        *,
        batch_size: int,
        poll_interval: float,
        expire: ExpireAccesses | None = None,
        expiry_interval: float = 30.0,
    ) -> None:
        if batch_size <= 0 or poll_interval <= 0 or expiry_interval <= 0:
            raise ValueError("batch size and intervals must be positive")
        self._deliver = deliver
        self._expire = expire
        self._expiry_interval = expiry_interval
        self._next_expiry = 0.0  # monotonic time of the next expiry batch: the first tick
        self._batch_size = batch_size
        self._interval = poll_interval
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, container: Core, settings: Settings) -> OutboxLoop:
        """The loop over a container's DeliverOutbox with the settings' batch and interval."""
        return cls(
            container.deliver_outbox(),
            batch_size=settings.outbox.outbox_batch_size,
            poll_interval=settings.outbox.outbox_poll_interval,
            expire=container.expire_accesses(),
        )

    async def run(self) -> None:
        """Deliver batches until :meth:`stop` is called."""
        log.info("outbox delivery loop started (every %ss)", self._interval)
        while not self._stop.is_set():
            full = await self._tick()
            if full:
                await asyncio.sleep(0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self._interval)
        log.info("outbox delivery loop stopped")

    async def _tick(self) -> bool:
        expiring = await self._expiry_tick()
        return await self._delivery_tick() or expiring

    async def _expiry_tick(self) -> bool:
        """Run an expiry batch if one is due; whether it came back full."""
        if self._expire is None or time.monotonic() < self._next_expiry:
            return False
        try:
            expired = await self._expire.execute(self._batch_size)
        except Exception:
            log.exception("access expiry batch failed; retrying at the next interval")
            expired = 0
        full = expired >= self._batch_size
        self._next_expiry = 0.0 if full else time.monotonic() + self._expiry_interval
        if expired:
            log.info("access expiry batch: %d expired", expired)
        return full

    async def _delivery_tick(self) -> bool:
        try:
            report = await self._deliver.execute(self._batch_size)
        except Exception:
            log.exception("outbox delivery batch failed; retrying at the next tick")
            return False
        if report.claimed:
            log.info(
                "outbox batch: %d claimed, %d delivered, %d retrying, %d failed, %d discarded",
                report.claimed,
                report.delivered,
                report.retrying,
                report.failed,
                report.discarded,
            )
        return report.claimed >= self._batch_size

    def stop(self) -> None:
        """Ask the loop to stop after the current batch."""
        self._stop.set()

    async def start(self) -> None:
        """Run the loop as a background task (a Litestar ``on_startup`` hook)."""
        if self._task is None:
            self._stop.clear()
            self._task = asyncio.create_task(self.run(), name="accessgate-outbox")

    async def shutdown(self, grace: float = 10.0) -> None:
        """Stop the background task, waiting up to ``grace`` seconds for the current batch."""
        task, self._task = self._task, None
        if task is None:
            return
        self.stop()
        try:
            await asyncio.wait_for(task, timeout=grace)
        except TimeoutError:
            log.warning("outbox delivery loop did not stop in %ss; cancelled", grace)


async def run_worker(container: Core, settings: Settings) -> None:
    """Open the container's services, run the loop until SIGINT or SIGTERM, close them."""
    await start_services(container)
    loop = OutboxLoop.of(container, settings)
    freeze_startup_objects()
    running = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            running.add_signal_handler(signum, loop.stop)
    try:
        await loop.run()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                running.remove_signal_handler(signum)
        await stop_services(container)
