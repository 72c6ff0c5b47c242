"""The pipeline without HTTP: CPU per fulfilment and per session-status read, in process.

Verifies and applies signed deliveries one after another through the container's
own gateway and use cases (no server, no load generator), then reads each
session's status; prints wall and CPU time per operation. The figure to compare
before and after a storage or use-case change. With ``--profile FILE`` the run is
sampled by py-spy (collapsed stacks in FILE).

Run: ``python -m bench.inprocess [--postgres] [--events 2000] [--concurrency 1]
[--profile out.txt]`` (``--concurrency 64`` applies 64 deliveries at once, as under
load: on PostgreSQL they then share commit groups).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import requests as rq
from bench import seed, servers
from bench.run import PG_URL

from accessgate.config import load_settings
from accessgate.container import create_container, start_services

WARMUP = 50


async def measure(url: str, events: int, concurrency: int = 1) -> dict[str, float]:
    """Seconds of wall and CPU per fulfilment and per read."""
    await seed.recreate(url)
    await seed.add_history(url, 0, 1000, 1000)
    pool = seed.pool_orders("ip", 0, events + WARMUP)
    await seed.add_pool(url, pool)
    container = create_container(load_settings(servers.accessgate_env(url)))
    await start_services(container)
    gateway, handle = container.gateway(), container.handle_payment_events()
    deliveries = []
    for order in pool:
        head, body = rq.delivery(order, servers.WEBHOOK_SECRET, "x").split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")[2:]
        deliveries.append((body, {k.lower(): v for k, v in (x.split(": ", 1) for x in lines)}))
    try:
        for body, headers in deliveries[:WARMUP]:
            await handle.execute(gateway.verify_delivery(body, headers))
        wall, cpu = time.perf_counter(), time.process_time()
        pending = deliveries[WARMUP:]

        async def apply_in_turn() -> None:
            while pending:
                body, headers = pending.pop(0)
                await handle.execute(gateway.verify_delivery(body, headers))

        await asyncio.gather(*(apply_in_turn() for _ in range(concurrency)))
        out = {
            "fulfil_wall_ms": (time.perf_counter() - wall) / events * 1e3,
            "fulfil_cpu_ms": (time.process_time() - cpu) / events * 1e3,
        }
        status = container.session_status()
        wall, cpu = time.perf_counter(), time.process_time()
        for order in pool[WARMUP:]:
            await status.execute(order.session_id)
        out["read_wall_ms"] = (time.perf_counter() - wall) / events * 1e3
        out["read_cpu_ms"] = (time.process_time() - cpu) / events * 1e3
        source = getattr(container.uow(), "source", None)
        if getattr(source, "groups_finished", 0):
            out["groups"] = source.groups_finished
            out["largest_group"] = source.largest_group
        return out
    finally:
        await container.uow().dispose()
        await seed.drop(url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument(
        "--concurrency", type=int, default=1, help="deliveries applied at once (group commit)"
    )
    parser.add_argument("--profile", type=Path, help="sample with py-spy into this file")
    args = parser.parse_args()
    if args.profile:
        argv = [a for a in sys.argv[1:] if a not in ("--profile", str(args.profile))]
        spy = [str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw"]
        spy += ["-r", "500", "-o", str(args.profile), "--", sys.executable, "-m", __spec__.name]
        return subprocess.call([*spy, *argv])
    with tempfile.TemporaryDirectory() as tmp:
        url = PG_URL if args.postgres else f"sqlite+aiosqlite:///{tmp}/inprocess.db"
        figures = asyncio.run(measure(url, args.events, args.concurrency))
    name = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"{name}, {args.events} events, {args.concurrency} at a time, pid {os.getpid()}:\n"
        f"  fulfilment      {figures['fulfil_wall_ms']:.2f} ms wall, "
        f"{figures['fulfil_cpu_ms']:.2f} ms CPU\n"
        f"  session status  {figures['read_wall_ms']:.2f} ms wall, "
        f"{figures['read_cpu_ms']:.2f} ms CPU"
        + (
            f"\n  commit groups   {figures['groups']:.0f} (largest {figures['largest_group']:.0f})"
            if "groups" in figures
            else ""
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
