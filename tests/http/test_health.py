"""GET /health with the real services behind it."""

from __future__ import annotations

import socket

from dependency_injector import providers

from accessgate.adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from accessgate.domain.model.errors import StorageError
from tests.services import redis_url, unavailable

from .helpers import assert_envelope, client_for, make_settings


class DownStorage(MemoryUnitOfWorkFactory):
    """A storage whose health check fails like a lost database connection."""

    async def check(self) -> None:
        raise StorageError()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_health_ok() -> None:
    async with client_for() as (client, _):
        response = await client.get("/health")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert body["services"] == {"database": "ok"}
        assert body["timestamp"].endswith("Z")


async def test_health_names_a_failing_database() -> None:
    async with client_for() as (client, core):
        core.uow.override(providers.Object(DownStorage()))
        response = await client.get("/health")
        error = assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
        assert error["details"]["services"] == {"database": "error"}
        assert error["details"]["failing"] == ["database"]


async def test_health_checks_redis_when_configured() -> None:
    async with client_for(make_settings(redis_url=redis_url())) as (client, _):
        response = await client.get("/health")
        if response.status_code != 200:
            unavailable("Redis", RuntimeError(response.text))
        assert response.json()["services"] == {"database": "ok", "redis": "ok"}
    down = f"redis://127.0.0.1:{_closed_port()}/0"
    async with client_for(make_settings(redis_url=down)) as (client, _):
        response = await client.get("/health")
        error = assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
        assert error["details"]["services"] == {"database": "ok", "redis": "error"}
        assert "redis" in error["message"]
