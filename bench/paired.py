"""The framework ceiling measured right before each figure it is held against.

This machine's speed drifts by a third within minutes, so a ceiling measured at
the start of a seven-minute run says little about a figure measured at its end.
:class:`PairedCeiling` keeps the bare endpoint's server up for the whole run and
runs it, at the same concurrency and for the same time, immediately before each
figure that is compared with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import requests as rq
from bench import seed
from bench.procs import Server, run_wrk
from bench.servers import WEBHOOK_SECRET, start_ceiling


class PairedCeiling:
    """The ceiling's server, started once; :meth:`rate` measures it now."""

    def __init__(self, work: Path) -> None:
        self.server: Server = start_ceiling(work / "server-ceiling.log")
        try:
            self.requests = work / "ceiling.bin"
            orders = seed.pool_orders("c", 0, 2000)
            host = f"127.0.0.1:{self.server.port}"
            rq.deliveries(self.requests, orders, WEBHOOK_SECRET, host, rq.WEBHOOK_PATH)
            run_wrk(self.server, self.requests, 16, 1)  # warm-up
        except BaseException:
            self.server.stop()
            raise

    def run(self, concurrency: int, seconds: float) -> dict[str, Any]:
        """One wrk run against the bare endpoint: the summary of :mod:`bench.procs`."""
        return run_wrk(self.server, self.requests, concurrency, seconds).summary(concurrency)

    def rate(self, concurrency: int, seconds: float) -> float:
        """Requests per second of the bare endpoint, measured now."""
        return float(self.run(concurrency, seconds)["per_second"])

    def stop(self) -> dict[str, float]:
        """Stop the server; its peak memory."""
        memory = self.server.memory()
        self.server.stop()
        return memory
