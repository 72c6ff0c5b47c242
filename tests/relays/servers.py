"""Local HTTP servers on 127.0.0.1 standing in for the Graph API and the tracker.

Each records every request it receives. The tracker closes every connection
after answering, so taking it down (closing its listening socket) refuses
every later request, as a real outage does.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any = None


Responder = Callable[[Received], Awaitable[web.StreamResponse]]


async def ok(_: Received) -> web.StreamResponse:
    return web.json_response({"ok": True})


class StubServer:
    """An aiohttp app on a free loopback port that records requests."""

    def __init__(self, responder: Responder = ok) -> None:
        self.responder = responder
        self.received: list[Received] = []
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        await self.up()

    async def up(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()
        self.port = self._runner.addresses[0][1]

    async def down(self) -> None:
        assert self._site is not None
        await self._site.stop()
        self._site = None

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        received = Received(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            body=body,
            json=await request.json()
            if body and request.content_type == "application/json"
            else None,
        )
        self.received.append(received)
        response = await self.responder(received)
        response.force_close()
        return response


@dataclass
class Tracker:
    """A Binom-like tracker: counts a conversion when it answers 200.

    ``failure_rate`` of requests (drawn from a seeded generator) answer 500 or
    hang past the client's timeout; a request that hangs is dropped, never
    counted (the tracker was too busy to process it).
    """

    server: StubServer
    failure_rate: float = 0.0
    hang_seconds: float = 0.3
    seed: int = 8
    counted: Counter[tuple[str, str]] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    hold: asyncio.Event | None = None

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self.server.responder = self.respond

    async def respond(self, request: Received) -> web.StreamResponse:
        if self.hold is not None:
            self.counted[(request.query["cnv_id"], request.query["cnv_status"])] += 1
            await self.hold.wait()
            return web.Response(text="ok")
        draw = self._random.random()
        if draw < self.failure_rate / 2:
            self.faults["500"] += 1
            return web.Response(status=500, text="busy")
        if draw < self.failure_rate:
            self.faults["hang"] += 1
            await asyncio.sleep(self.hang_seconds)
            return web.Response(status=503, text="dropped")
        self.counted[(request.query["cnv_id"], request.query["cnv_status"])] += 1
        return web.Response(text="ok")
