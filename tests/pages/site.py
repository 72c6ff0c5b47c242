"""The app served by uvicorn inside the test's event loop, over memory adapters.

The sandbox's Pay posts its webhook back over real HTTP, so the pages are
tested on a real server; the memory container keeps the state inspectable.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import uvicorn

from accessgate.adapters.memory.unit_of_work import MemoryStore
from accessgate.adapters.sandbox import SandboxPaymentGateway
from accessgate.adapters.system import SystemClock
from accessgate.config import Settings
from accessgate.container import Core, create_memory_container
from accessgate.domain.model.order import Order
from accessgate.entrypoints.http.app import create_app
from accessgate.ports.clock import Clock
from accessgate.ports.payment_gateway import PaymentGateway


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Site:
    base_url: str
    core: Core
    client: httpx.AsyncClient

    @property
    def store(self) -> MemoryStore:
        store: MemoryStore = getattr(self.core.uow(), "store")  # noqa: B009
        return store

    def order(self, session_id: str) -> Order:
        return next(
            o for o in self.store.tables.orders.values() if o.provider_session_id == session_id
        )

    async def pay_form(self, **fields: str) -> httpx.Response:
        return await self.client.post(
            "/pay", data=fields, headers={"Origin": self.base_url}, follow_redirects=False
        )


@asynccontextmanager
async def running_site(
    gateway: PaymentGateway | None = None, clock: Clock | None = None, **overrides: object
) -> AsyncIterator[Site]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    options: dict[str, object] = {
        "accessgate_env": "test",
        "app_public_base_url": base_url,
        "secret_key": "pages-test-secret-key-0123456789",
        "rate_limit_enabled": False,
    }
    settings = Settings.for_tests(**(options | overrides))
    clock = clock or SystemClock()
    if gateway is None:
        gateway = SandboxPaymentGateway(
            secret=b"pages-secret", clock=clock, public_base_url=base_url
        )
    core = create_memory_container(settings, clock=clock, gateway=gateway)
    config = uvicorn.Config(
        create_app(settings, core), host="127.0.0.1", port=port, log_config=None, lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(250):
            if server.started or task.done():
                break
            await asyncio.sleep(0.02)
        assert server.started, "the test server did not start"
        async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as client:
            yield Site(base_url=base_url, core=core, client=client)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10.0)
