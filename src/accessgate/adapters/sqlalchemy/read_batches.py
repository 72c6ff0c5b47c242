"""Read batches on PostgreSQL: concurrent look-ups by key share one statement and round trip.

A read-only unit of work on PostgreSQL needs no transaction: each of its
statements sees what was committed when it started. Reads of the same
statement that arrive together (the session-status look-ups of many buyers,
say) can therefore run as one statement over all their keys without changing
what any of them sees: :class:`ReadBatches` collects them while the event loop
runs the requests that are ready now, then sends one ``unnest`` of the keys
joined ``LATERAL`` to the one-key statement, and hands each unit its own rows.
A failed batch fails each of its units with the same ``StorageError``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from accessgate.adapters.sqlalchemy.connections import ConnectionSource, take_turn
from accessgate.adapters.sqlalchemy.statements import Row, Statement

# Keys per statement: past a few dozen a batch only makes its first units wait.
MAX_KEYS = 64
# Batches of one statement running at once (more units wait for the next batch).
MAX_RUNNING = 2
_N = "batch_n"


class BatchedRead:
    """A read by one key (``:key`` in ``single``) and its form for many keys.

    Args:
        single: the one-key statement.
        key: the name of its key parameter.
        sql_type: the PostgreSQL type of the key (``text``, ``bigint``).
        order_by: the order of one key's rows, in the names ``single`` gives its
            columns (its own ``ORDER BY``, which the outer statement must repeat).

    """

    __slots__ = ("key", "many", "single")

    def __init__(self, single: Statement, key: str, sql_type: str, order_by: str = "") -> None:
        self.single = single
        self.key = key
        inner = single.text.replace(f":{key}", f"batch_keys.{key}")
        self.many = Statement(  # identifiers from this package's code; the keys are bound
            f"SELECT batch_keys.{_N}, found.* FROM unnest(:batch_keys::{sql_type}[]) "  # noqa: S608
            f"WITH ORDINALITY AS batch_keys({key}, {_N}) CROSS JOIN LATERAL ({inner}) AS found"
            + (f" ORDER BY batch_keys.{_N}, {order_by}" if order_by else ""),
            (None, *single.columns),
            (_N, *single.names),
        )


class ReadBatches:
    """Concurrent :class:`BatchedRead` look-ups of one process, sent in batches.

    Args:
        source: where a batch takes its connection.
        gate: the read-only units' gate (a batch takes one turn), or ``None``.
        wait_timeout: seconds a batch waits for the gate, then ``StorageError``.

    """

    def __init__(
        self, source: ConnectionSource, gate: asyncio.Semaphore | None, wait_timeout: float
    ) -> None:
        self._source = source
        self._gate = gate
        self._wait_timeout = wait_timeout
        self._waiting: dict[BatchedRead, list[tuple[Any, asyncio.Future[list[Row]]]]] = {}
        self._running: dict[BatchedRead, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.batches_sent = 0
        self.largest_batch = 0

    async def fetch(self, read: BatchedRead, key: Any) -> list[Row]:
        """The rows of ``read`` for ``key``, in the one-key statement's order."""
        loop = asyncio.get_running_loop()
        found: asyncio.Future[list[Row]] = loop.create_future()
        waiting = self._waiting.get(read)
        if waiting is None:
            waiting = self._waiting[read] = []
            loop.call_soon(self._send, read)  # once the requests ready now have joined
        waiting.append((key, found))
        return await found

    def _send(self, read: BatchedRead) -> None:
        """Start a batch of the waiting look-ups, unless enough batches run already."""
        waiting = self._waiting.get(read)
        if self._closed or not waiting or self._running.get(read, 0) >= MAX_RUNNING:
            return  # the batch that ends next sends them
        batch = [entry for entry in waiting[:MAX_KEYS] if not entry[1].done()]
        del waiting[:MAX_KEYS]
        if not waiting:
            del self._waiting[read]
        else:
            asyncio.get_running_loop().call_soon(self._send, read)
        if batch:
            self._running[read] = self._running.get(read, 0) + 1
            task = asyncio.get_running_loop().create_task(self._run(read, batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(
        self, read: BatchedRead, batch: list[tuple[Any, asyncio.Future[list[Row]]]]
    ) -> None:
        try:
            rows = await self._query(read, [key for key, _ in batch])
        except Exception as error:
            for _, found in batch:
                if not found.done():
                    found.set_exception(error)
        except BaseException:  # cancelled (at shutdown): so are the units waiting for it
            for _, found in batch:
                found.cancel()
            raise
        else:
            by_key: dict[int, list[Row]] = {}
            for row in rows:
                by_key.setdefault(row.pop(_N), []).append(row)
            for n, (_, found) in enumerate(batch, 1):
                if not found.done():
                    found.set_result(by_key.get(n, []))
        finally:
            self._running[read] -= 1
            self._send(read)

    async def _query(self, read: BatchedRead, keys: list[Any]) -> list[Row]:
        gate = self._gate
        if gate is not None:
            await take_turn(gate, self._wait_timeout)
        try:
            connection = await self._source.acquire(read_only=True)
            try:
                await connection.begin(read_only=True)
                rows = await connection.fetch(read.many, {"batch_keys": keys})
            finally:
                await self._source.release(connection)
        finally:
            if gate is not None:
                gate.release()
        self.batches_sent += 1
        self.largest_batch = max(self.largest_batch, len(keys))
        return rows

    def close(self) -> None:
        """Cancel the batches still running and the look-ups still waiting (at shutdown)."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        waiting, self._waiting = self._waiting, {}
        for entries in waiting.values():
            for _, found in entries:
                found.cancel()
