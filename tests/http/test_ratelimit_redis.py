"""Two app instances share one limit through the real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from litestar.testing import AsyncTestClient

from accessgate.container import create_memory_container
from accessgate.entrypoints.http.app import create_app
from tests.services import redis_url, unavailable

from .helpers import assert_envelope, make_settings

pytestmark = pytest.mark.redis
STATUS = "/api/payment/session-status?session_id=cs_none"


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    client = aioredis.Redis.from_url(redis_url())
    try:
        await client.ping()
    except Exception as error:
        await client.aclose()
        unavailable("Redis", error)
    value = f"accessgate-test:{uuid.uuid4().hex}:"
    try:
        yield value
    finally:
        keys = [key async for key in client.scan_iter(match=f"{value}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_two_replicas_share_one_limit(prefix: str) -> None:
    settings = make_settings(
        rate_limit_enabled=True,
        rate_limit_requests=3,
        rate_limit_window=30,
        redis_url=redis_url(),
    )
    app_a = create_app(settings, create_memory_container(settings), rate_limit_prefix=prefix)
    app_b = create_app(settings, create_memory_container(settings), rate_limit_prefix=prefix)
    async with AsyncTestClient(app_a) as a, AsyncTestClient(app_b) as b:
        assert (await a.get(STATUS)).status_code == 404
        assert (await b.get(STATUS)).status_code == 404
        assert (await a.get(STATUS)).status_code == 404
        refused = await b.get(STATUS)
        assert_envelope(refused, 429, "RATE_LIMIT_EXCEEDED")
        assert 0 < int(refused.headers["retry-after"]) <= 30
        assert_envelope(await a.get(STATUS), 429, "RATE_LIMIT_EXCEEDED")
    check = aioredis.Redis.from_url(redis_url())
    try:
        keys = [key async for key in check.scan_iter(match=f"{prefix}*")]
        assert keys == [f"{prefix}testclient".encode()]
        assert int(await check.get(keys[0]) or 0) == 5
        assert 0 < await check.ttl(keys[0]) <= 30
    finally:
        await check.aclose()


async def test_two_replicas_share_the_strict_restore_limit(prefix: str) -> None:
    settings = make_settings(
        rate_limit_enabled=True,
        rate_limit_requests=30,
        restore_rate_limit_requests=2,
        rate_limit_window=30,
        redis_url=redis_url(),
    )
    app_a = create_app(settings, create_memory_container(settings), rate_limit_prefix=prefix)
    app_b = create_app(settings, create_memory_container(settings), rate_limit_prefix=prefix)
    body = {"email": "a@b.co"}
    async with AsyncTestClient(app_a) as a, AsyncTestClient(app_b) as b:
        assert (await a.post("/api/auth/restore/request", json=body)).status_code == 200
        assert (await b.post("/api/auth/restore/request", json=body)).status_code == 200
        refused = await a.post("/api/auth/restore/confirm", json=body | {"otp": "123456"})
        assert_envelope(refused, 429, "RATE_LIMIT_EXCEEDED")
        assert (await b.get(STATUS)).status_code == 404
    check = aioredis.Redis.from_url(redis_url())
    try:
        keys = {key async for key in check.scan_iter(match=f"{prefix}*")}
        assert f"{prefix}strict:testclient".encode() in keys
    finally:
        await check.aclose()
