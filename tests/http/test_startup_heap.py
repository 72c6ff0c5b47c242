"""The served app freezes its start-up heap: full collections never walk it again."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from litestar.testing import AsyncTestClient

from accessgate.container import create_memory_container
from accessgate.entrypoints.heap import freeze_startup_objects
from accessgate.entrypoints.http.asgi import build_app
from tests.http.helpers import make_settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Start and end with nothing frozen (the test process must stay collectable)."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_freezing_exempts_what_is_alive(unfrozen: None) -> None:
    assert gc.get_freeze_count() == 0
    kept = [[n] for n in range(1000)]
    freeze_startup_objects()
    assert gc.get_freeze_count() >= len(kept)


async def test_the_served_app_freezes_its_heap_once_started(unfrozen: None) -> None:
    settings = make_settings()
    app = build_app(settings, create_memory_container(settings), with_worker=False)
    assert gc.get_freeze_count() == 0
    async with AsyncTestClient(app) as client:
        assert gc.get_freeze_count() > 0
        response = await client.get("/health")
        assert response.status_code == 200
