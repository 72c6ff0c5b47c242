"""GET /health with the real services behind it, and with each of them down."""

from __future__ import annotations

import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from dependency_injector import providers
from litestar import Litestar
from litestar.testing import AsyncTestClient

from accessgate.adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from accessgate.config import Settings
from accessgate.container import create_container, start_services, stop_services
from accessgate.domain.model.errors import StorageError
from accessgate.entrypoints.http.app import create_app
from tests.services import redis_url, unavailable

from .helpers import assert_envelope, client_for, make_settings, paid_order

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
EMPTY_OUTBOX = {"backlog": 0, "failed": 0}


class DownStorage(MemoryUnitOfWorkFactory):
    """A storage whose health check fails like a lost database connection."""

    async def check(self) -> None:
        raise StorageError()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def _production_client(
    settings: Settings, *, start: bool = False
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """A client of the app over the production container (real storage adapters)."""
    container = create_container(settings)
    try:
        if start:  # creates (migrates) the SQLite file
            await start_services(container)
        async with AsyncTestClient(create_app(settings, container)) as client:
            yield client
    finally:
        await stop_services(container)


async def test_health_ok_names_every_service_and_the_outbox_backlog() -> None:
    async with client_for() as (client, _):
        response = await client.get("/health")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"status", "services", "timestamp"}
        assert body["status"] == "ok"
        assert body["services"] == {"database": "ok", "outbox": EMPTY_OUTBOX}
        assert body["timestamp"].endswith("Z")


async def test_health_shows_the_outbox_backlog_after_a_purchase() -> None:
    async with client_for() as (client, _):
        await paid_order(client, _)
        body = (await client.get("/health")).json()
        assert body["services"]["outbox"] == {"backlog": 1, "failed": 0}  # the access email


async def test_health_names_a_failing_database() -> None:
    async with client_for() as (client, core):
        core.uow.override(providers.Object(DownStorage()))
        response = await client.get("/health")
        error = assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
        assert error["details"]["services"]["database"] == "error"
        assert "database" in error["details"]["failing"]
        assert "database" in error["message"]


async def test_health_names_a_stopped_postgresql_database() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/test"
    async with _production_client(make_settings(database_url=url)) as client:
        response = await client.get("/health")
        error = assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
        assert error["details"]["services"] == {"database": "error", "outbox": "error"}
        assert error["details"]["failing"] == ["database", "outbox"]
        metrics = await client.get("/metrics")  # the scrape still answers, without the gauges
        assert metrics.status_code == 200
        assert "active_subscriptions" not in metrics.text
        assert "bot_requests_total" in metrics.text


async def test_health_names_a_sqlite_database_whose_directory_is_gone(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{folder / 'shop.db'}")
    async with _production_client(settings, start=True) as client:
        assert (await client.get("/health")).status_code == 200
        shutil.rmtree(folder)
        # a pooled connection still reads the removed file's inode: close the pool
        await client.app.state.container.uow().dispose()
        response = await client.get("/health")
        error = assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
        assert error["details"]["services"]["database"] == "error"


async def test_health_checks_redis_when_configured() -> None:
    async with client_for(make_settings(redis_url=redis_url())) as (client, _):
        response = await client.get("/health")
        if response.status_code != 200:
            unavailable("Redis", RuntimeError(response.text))
        services = response.json()["services"]
        assert services == {"database": "ok", "redis": "ok", "outbox": EMPTY_OUTBOX}
    down = f"redis://127.0.0.1:{_closed_port()}/0"
    async with client_for(make_settings(redis_url=down)) as (client, _):
        response = await client.get("/health")
        error = assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
        assert error["details"]["services"]["redis"] == "error"
        assert error["details"]["failing"] == ["redis"]
        assert "redis" in error["message"]


async def test_health_shows_the_bot_only_when_configured() -> None:
    async with client_for(make_settings(telegram_bot_token=BOT_TOKEN)) as (client, _):
        response = await client.get("/health")
        assert response.status_code == 200
        assert response.json()["services"]["bot"] == "ok"
        assert BOT_TOKEN not in response.text
    async with client_for(make_settings(telegram_bot_token="not-a-token")) as (client, _):
        response = await client.get("/health")
        error = assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
        assert error["details"]["failing"] == ["bot"]
        assert "not-a-token" not in response.text
    async with client_for() as (client, _):
        assert "bot" not in (await client.get("/health")).json()["services"]
