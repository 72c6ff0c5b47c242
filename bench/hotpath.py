"""The hot paths outside the database: CPU per request through the real ASGI app.

Builds the app ``accessgate serve --no-worker`` runs (:func:`build_app` over
:func:`create_container`, production settings of :mod:`bench.servers`) with
``DATABASE_URL=memory://``, so no driver or database is measured, and sends it
requests one after another as raw ASGI calls (no server, no socket, no load
generator). ``--path`` picks what is sent:

* ``webhook`` (default): signed ``checkout.session.completed`` deliveries for
  distinct pre-created orders (each one fulfils its order);
* ``duplicate``: the same deliveries again, signed anew, once every order was
  fulfilled (untimed) by a first delivery;
* ``session-status``: ``GET /api/payment/session-status`` of fulfilled orders;
* ``bot-status``: ``POST /api/bot/access/status`` (``X-Internal-Token``) of
  Telegram users with active access.

The same harness then drives the bare Litestar endpoint of :mod:`bench.ceiling`.
Prints CPU (``time.process_time``) and wall time per request for both, and
the share of the accessgate samples spent in the memory storage adapter when
profiled.

With ``--profile FILE`` the run is sampled by py-spy (raw collapsed stacks in
FILE) and a summary of the hottest functions outside storage is printed.

Run: ``python -m bench.hotpath [--path webhook] [--events 3000] [--rounds 3] [--profile out.txt]``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import requests as rq
from bench import seed, servers
from litestar import Litestar, Request, post

from accessgate.config import load_settings
from accessgate.container import create_container
from accessgate.domain.model.access import Access
from accessgate.domain.model.order import Order
from accessgate.domain.model.status import AccessStatus
from accessgate.domain.model.values import Locale, Mode, Money, PlanCode
from accessgate.entrypoints.http.asgi import build_app

WARMUP = 20
BATCH = 250  # orders per memory store: its units of work copy the tables, O(orders)
PATHS = ("webhook", "duplicate", "session-status", "bot-status")
SESSION_STATUS_PATH = "/api/payment/session-status"
BOT_STATUS_PATH = "/api/bot/access/status"
HOST = (b"host", b"127.0.0.1:8000")
FULFILLED = b'{"received":true,"outcomes":["fulfilled"]}'
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class Call:
    """One request as uvicorn hands it over, and the start of the body it must get (200)."""

    method: str
    path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    expect: bytes


@post("/api/stripe/webhook", status_code=200)
async def bare_webhook(request: Request) -> dict[str, bool]:  # type: ignore[type-arg]
    """The ceiling's endpoint (:mod:`bench.ceiling`): read the body, answer a constant."""
    await request.body()
    return {"received": True}


def _deliveries(pool: list[seed.PoolOrder], expect: bytes = FULFILLED) -> list[Call]:
    """Signed deliveries, signed now."""
    out = []
    for order in pool:
        head, body = rq.delivery(order, servers.WEBHOOK_SECRET, "127.0.0.1").split(b"\r\n\r\n", 1)
        headers = []
        for line in head.split(b"\r\n")[1:]:
            name, value = line.split(b": ", 1)
            headers.append((name.lower(), value))
        out.append(Call("POST", rq.WEBHOOK_PATH, b"", headers, body, expect))
    return out


def _session_reads(pool: list[seed.PoolOrder]) -> list[Call]:
    """``GET /api/payment/session-status`` of each (fulfilled) order, as in :mod:`bench.requests`."""
    expect = (
        b'{"payment_status":"paid","fulfillment_status":"fulfilled",'
        b'"access_status":"token_issued","activation_link":"https://shop.example/'
    )
    return [
        Call("GET", SESSION_STATUS_PATH, f"session_id={o.session_id}".encode(), [HOST], b"", expect)
        for o in pool
    ]


def _bot_reads(pool: list[seed.PoolOrder]) -> list[Call]:
    """``POST /api/bot/access/status`` of the Telegram user of each order (see :func:`_add_orders`)."""
    out = []
    for n, order in enumerate(pool):
        body = b'{"telegram_user_id":%d}' % (seed.FIRST_BOT_USER + n)
        headers = [
            HOST,
            (b"content-type", b"application/json"),
            (b"x-internal-token", servers.INTERNAL_TOKEN.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        expect = (
            b'{"is_paid":true,"order_id":"%s","plan":"one_time_basic","access_status":"active"}'
        )
        out.append(
            Call("POST", BOT_STATUS_PATH, b"", headers, body, expect % order.order_id.encode())
        )
    return out


def _scope(call: Call) -> dict[str, Any]:
    """An HTTP scope as uvicorn makes it for ``call``."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": call.method,
        "root_path": "",
        "path": call.path,
        "raw_path": call.path.encode(),
        "query_string": call.query,
        "headers": call.headers,
        "state": {},
    }


async def _call(app: ASGIApp, call: Call) -> tuple[int, bytes]:
    """One request through the ASGI app; its status and body."""
    body = call.body
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # a client that stays: never a disconnect
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(_scope(call), receive, send)
    return status, b"".join(chunks)


async def _lifespan(app: ASGIApp) -> Callable[[], Awaitable[None]]:
    """Run the app's start-up; returns the function that runs its shutdown."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan", "state": {}}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    message = await asyncio.wait_for(outbox.get(), 30)
    if message["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"start-up failed: {message}")

    async def shutdown() -> None:
        await inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(outbox.get(), 30)
        await asyncio.wait_for(task, 30)

    return shutdown


async def _add_orders(container: Any, pool: list[seed.PoolOrder], *, active: bool = False) -> None:
    """Store the pool's orders unpaid, through the container's (memory) unit of work.

    With ``active`` each access is active instead, bound to Telegram user
    ``FIRST_BOT_USER + n`` (``n``: the order's place in the pool).
    """
    now = datetime.now(UTC)
    factory = container.uow()
    async with factory() as uow:
        for n, p in enumerate(pool):
            await uow.orders.add(
                Order(
                    id=p.order_id,
                    mode=Mode.ONE_TIME,
                    plan=PlanCode.ONE_TIME_BASIC,
                    email=f"{p.order_id}@example.com",
                    locale=Locale.EN,
                    provider="stripe",
                    provider_session_id=p.session_id,
                    amount=Money(amount=p.amount, currency=seed.CURRENCY),
                    created_at=now,
                    updated_at=now,
                    clickid=p.clickid or None,
                )
            )
            await uow.accesses.add(
                Access(
                    order_id=p.order_id,
                    status=AccessStatus.ACTIVE if active else AccessStatus.PENDING,
                    changed_at=now,
                    updated_at=now,
                    telegram_user_id=seed.FIRST_BOT_USER + n if active else None,
                )
            )
        await uow.commit()


async def _drive(app: ASGIApp, calls: list[Call]) -> tuple[float, float]:
    """Warm up, then time the rest one after another; every answer must be as expected.

    Returns the seconds of CPU and wall spent on the timed requests.
    """
    for call in calls[:WARMUP]:
        await _call(app, call)
    timed = calls[WARMUP:]
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    answers = [await _call(app, call) for call in timed]
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    wrong = [(c.expect, a) for c, a in zip(timed, answers, strict=True) if not _as_expected(c, a)]
    if wrong:
        raise RuntimeError(f"{len(wrong)} unexpected answers, first {wrong[0]!r}")
    return cpu, wall


def _as_expected(call: Call, answer: tuple[int, bytes]) -> bool:
    return answer[0] == 200 and answer[1].startswith(call.expect)


async def _fulfil(app: ASGIApp, pool: list[seed.PoolOrder]) -> None:
    """Deliver (untimed) the event paying each order of the pool."""
    for call in _deliveries(pool):
        answer = await _call(app, call)
        if not _as_expected(call, answer):
            raise RuntimeError(f"fulfilment failed: {answer!r}")


def _per_request(totals: list[tuple[float, float]], events: int) -> dict[str, float]:
    return {
        "cpu_us": sum(t[0] for t in totals) / events * 1e6,
        "wall_us": sum(t[1] for t in totals) / events * 1e6,
    }


async def measure_accessgate(events: int, tag: str, path: str = "webhook") -> dict[str, float]:
    """CPU and wall per request of ``path`` through the real app over memory storage.

    A new container and app every :data:`BATCH` orders keeps the memory store
    small (its cost grows with the tables; PostgreSQL's does not).
    """
    env = servers.accessgate_env("memory://")
    settings = load_settings(env)
    totals = []
    for first in range(0, events, BATCH):
        size = min(BATCH, events - first)
        container = create_container(settings)
        app = build_app(settings, container, with_worker=False)
        pool = seed.pool_orders(f"{tag}b{first}_", 0, size + WARMUP)
        await _add_orders(container, pool, active=path == "bot-status")
        shutdown = await _lifespan(app)
        try:
            if path in ("duplicate", "session-status"):
                await _fulfil(app, pool)
            if path == "session-status":
                calls = _session_reads(pool)
            elif path == "bot-status":
                calls = _bot_reads(pool)
            elif path == "duplicate":
                calls = _deliveries(pool, b'{"received":true,"outcomes":["duplicate"]}')
            else:
                calls = _deliveries(pool)
            totals.append(await _drive(app, calls))
        finally:
            await shutdown()
    return _per_request(totals, events)


async def measure_bare(events: int) -> dict[str, float]:
    """CPU and wall per request of the bare Litestar endpoint, same harness."""
    totals = []
    for first in range(0, events, BATCH):
        size = min(BATCH, events - first)
        app = Litestar(route_handlers=[bare_webhook])
        pool = seed.pool_orders(f"bareb{first}_", 0, size + WARMUP)
        shutdown = await _lifespan(app)
        try:
            totals.append(await _drive(app, _deliveries(pool, b'{"received":true}')))
        finally:
            await shutdown()
    return _per_request(totals, events)


def summarise(path: Path, top: int = 25) -> str:
    """The hottest functions (self time) of a py-spy raw profile, storage apart."""
    own: collections.Counter[str] = collections.Counter()
    total = storage = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if not any(f.startswith("_drive.<locals>.<listcomp> (") for f in frames):
            continue
        total += count
        if any("adapters/memory/unit_of_work" in f for f in frames):
            storage += count
            continue
        own[frames[-1]] += count
    lines = [f"samples in the timed loop: {total}, in memory storage: {storage}"]
    for frame, count in own.most_common(top):
        lines.append(f"  {count / max(total, 1) * 100:5.1f}%  {frame}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--path", choices=PATHS, default="webhook", help="what accessgate answers")
    parser.add_argument("--only", choices=("bare", "accessgate"), help="measure one side")
    parser.add_argument("--profile", type=Path, help="sample with py-spy into this file")
    args = parser.parse_args()
    if args.profile:
        argv = [a for a in sys.argv[1:] if a not in ("--profile", str(args.profile))]
        spy = [str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw"]
        spy += ["-r", "500", "-o", str(args.profile), "--", sys.executable, "-m", __spec__.name]
        code = subprocess.call([*spy, *argv])
        print(summarise(args.profile))
        return code
    for n in range(args.rounds):
        if args.only != "accessgate":
            bare = asyncio.run(measure_bare(args.events))
            print(
                f"round {n}: bare litestar   {bare['cpu_us']:7.1f} us CPU, {bare['wall_us']:7.1f} us wall"
            )
        if args.only != "bare":
            ag = asyncio.run(measure_accessgate(args.events, f"r{n}", args.path))
            print(
                f"round {n}: {args.path:<15} {ag['cpu_us']:7.1f} us CPU, {ag['wall_us']:7.1f} us wall"
            )
    print(f"pid {os.getpid()}, {args.events} timed requests per run, memory storage")
    return 0


if __name__ == "__main__":
    sys.exit(main())
