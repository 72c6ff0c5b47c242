"""The webhook pipeline on one database: unique events, duplicates, reads, checks.

A :class:`Pipeline` owns one benchmark database and one accessgate server. Pool
orders are added on demand, so each run has unique events to spend; the send
order is the pool order, so the ``issued`` events of a run are its next slice.
After a run the events in flight when wrk stopped are delivered once more (as
Stripe retries), then the database must show exactly one fulfilment, one
payment event, one token and two outbox messages per unique event sent.
"""

from __future__ import annotations

import asyncio
import http.client
import time
from pathlib import Path
from typing import Any

from bench import requests as rq
from bench import seed
from bench.paired import PairedCeiling
from bench.procs import Server, run_wrk
from bench.servers import INTERNAL_TOKEN, WEBHOOK_SECRET, start_accessgate

OUTBOX_PER_EVENT = 2  # the access email and the MobiSlon postback
PAIRED_AT = 64  # the concurrency of the targets


class Pipeline:
    """Benchmarks against one database (``prefix`` names its pool orders)."""

    def __init__(
        self,
        url: str,
        work: Path,
        prefix: str,
        seconds: float,
        ceiling: PairedCeiling | None = None,
    ) -> None:
        self.url = url
        self.ceiling = ceiling  # measured right before each figure at concurrency 64
        self.work = work
        self.prefix = prefix
        self.seconds = seconds
        self.pool: list[seed.PoolOrder] = []
        self.sent = 0  # pool orders whose event was delivered
        self.best_rate = 500.0
        self.server: Server | None = None

    def _paired(self, concurrency: int, seconds: float) -> dict[str, float]:
        """The ceiling's rate now, for a figure at concurrency 64 (else nothing)."""
        if self.ceiling is None or concurrency != PAIRED_AT:
            return {}
        return {"paired_ceiling": self.ceiling.rate(concurrency, seconds)}

    def arun(self, coro: Any) -> Any:
        """Run a coroutine of :mod:`bench.seed`."""
        return asyncio.run(coro)

    def start(self, history: int, active: int) -> None:
        """Recreate the database with ``history`` fulfilled orders; start the server."""
        self.arun(seed.recreate(self.url))
        self.arun(seed.add_history(self.url, 0, history, active))
        self.arun(seed.analyze(self.url))
        self.server = start_accessgate(self.url, self.work / f"server-{self.prefix}.log")

    def stop(self) -> dict[str, float]:
        """Stop the server; its peak memory."""
        assert self.server is not None
        memory = self.server.memory()
        self.server.stop()
        self.server = None
        return memory

    def _ensure_pool(self, seconds: float) -> None:
        needed = int(self.best_rate * seconds * 1.6) + 2000
        missing = self.sent + needed - len(self.pool)
        if missing > 0:
            more = seed.pool_orders(self.prefix, len(self.pool), missing)
            self.arun(seed.add_pool(self.url, more))
            self.pool += more

    def deliver(self, concurrency: int, seconds: float | None = None) -> dict[str, Any]:
        """Unique signed events at ``concurrency``, then the checks."""
        assert self.server is not None
        seconds = seconds or self.seconds
        self._ensure_pool(seconds)
        before = self.arun(seed.counts(self.url))
        batch = self.pool[self.sent :]
        path = self.work / f"events-{self.prefix}.bin"
        host = f"127.0.0.1:{self.server.port}"
        rq.deliveries(path, batch, WEBHOOK_SECRET, host, rq.WEBHOOK_PATH)
        paired = self._paired(concurrency, seconds)
        result = run_wrk(self.server, path, concurrency, seconds)
        figures = result.summary(concurrency) | paired
        issued = min(result.figures["issued"], len(batch))
        retried = self._redeliver(
            batch[max(0, result.figures["requests"] - 2 * concurrency) : issued]
        )
        self.sent += issued
        self.best_rate = max(self.best_rate, figures["per_second"])
        figures["redelivered_after_stop"] = retried
        figures["check"] = self._check(before, issued)
        return figures

    def _redeliver(self, orders: list[seed.PoolOrder]) -> int:
        """Deliver again, one by one, the events that may have been cut off; how many."""
        assert self.server is not None
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            for order in orders:
                raw = rq.delivery(order, WEBHOOK_SECRET, "127.0.0.1")
                head, body = raw.split(b"\r\n\r\n", 1)
                headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[2:])
                conn.request("POST", rq.WEBHOOK_PATH, body=body, headers=headers)
                answer = conn.getresponse()
                answer.read()
                if answer.status != 200:
                    raise RuntimeError(f"redelivery answered {answer.status}")
        finally:
            conn.close()
        return len(orders)

    def _check(self, before: dict[str, int], unique: int) -> dict[str, Any]:
        after = self.arun(seed.counts(self.url))
        delta = {k: after[k] - before[k] for k in ("fulfilled", "events", "tokens", "outbox")}
        expected = {
            "fulfilled": unique,
            "events": unique,
            "tokens": unique,
            "outbox": unique * OUTBOX_PER_EVENT,
        }
        duplicates = after["orders_with_two_tokens"] + after["orders_with_two_events"]
        return {
            "events_sent": unique,
            "fulfilments": delta["fulfilled"],
            "duplicates": duplicates,
            "ok": delta == expected
            and duplicates == 0
            and not after["access_not_issued_on_fulfilled"],
            "delta": delta,
        }

    def duplicates(self, concurrency: int, count: int) -> dict[str, Any]:
        """Redeliver already applied events (signed anew, as Stripe retries)."""
        assert self.server is not None
        before = self.arun(seed.counts(self.url))
        sample = self.pool[max(0, self.sent - count) : self.sent]
        path = self.work / f"dups-{self.prefix}.bin"
        rq.deliveries(
            path, sample, WEBHOOK_SECRET, f"127.0.0.1:{self.server.port}", rq.WEBHOOK_PATH
        )
        paired = self._paired(concurrency, self.seconds)
        figures = run_wrk(self.server, path, concurrency, self.seconds).summary(concurrency)
        figures |= paired
        time.sleep(0.5)
        after = self.arun(seed.counts(self.url))
        changed = {k: after[k] - before[k] for k in ("fulfilled", "events", "tokens", "outbox")}
        figures["check"] = {"changes": changed, "ok": not any(changed.values())}
        return figures

    def session_reads(self, concurrency: int, count: int = 5000) -> dict[str, Any]:
        """``GET /api/payment/session-status`` of fulfilled orders."""
        assert self.server is not None
        sessions = [o.session_id for o in self.pool[: min(self.sent, count)]]
        path = self.work / f"sessions-{self.prefix}.bin"
        rq.session_reads(path, sessions, f"127.0.0.1:{self.server.port}")
        paired = self._paired(concurrency, self.seconds)
        return run_wrk(self.server, path, concurrency, self.seconds).summary(concurrency) | paired

    def bot_reads(self, concurrency: int, users: int) -> dict[str, Any]:
        """``POST /api/bot/access/status`` of Telegram users with active access."""
        assert self.server is not None
        ids = [seed.FIRST_BOT_USER + n for n in range(users)]
        path = self.work / f"bot-{self.prefix}.bin"
        rq.bot_reads(path, ids, f"127.0.0.1:{self.server.port}", INTERNAL_TOKEN)
        paired = self._paired(concurrency, self.seconds)
        return run_wrk(self.server, path, concurrency, self.seconds).summary(concurrency) | paired
