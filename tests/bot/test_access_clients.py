"""Both AccessClient adapters (in-process and HTTP) through the same scenario, with the same answers.

The HTTP adapter calls the real Litestar app's ``/api/bot/*`` (through httpx's ASGI
transport, no network) with ``X-Internal-Token``; the in-process one calls the
use cases of the same container.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from accessgate.adapters.access_client.http import HttpAccessClient
from accessgate.container import Core, bot_access_client
from accessgate.domain.model.errors import ServiceUnavailable, Unauthorized
from accessgate.ports.access_client import (
    AccessClient,
    AccessState,
    ActivationOutcome,
    RestoreOutcome,
)
from tests.http.helpers import INTERNAL_TOKEN, make_app, make_settings, paid_order

BUYER = 8_000_001
OTHER = 8_000_002


def http_client(app: Litestar, token: str = INTERNAL_TOKEN) -> HttpAccessClient:
    return HttpAccessClient("http://accessgate.test", token, transport=httpx.ASGITransport(app=app))


async def scenario(client: AccessClient, token: str) -> list[Any]:
    """The outcomes of one walk through the port."""
    before = await client.status(BUYER)
    first = await client.activate(token, BUYER)
    again = await client.activate(token, BUYER)
    stolen = await client.activate(token, OTHER)
    bogus = await client.activate("x" * 43, OTHER)
    after = await client.status(BUYER)
    malformed = await client.request_restore("not-an-email")
    unknown = await client.request_restore("nobody@example.com")
    wrong = await client.confirm_restore("nobody@example.com", "000000", OTHER)
    assert first.access is not None
    return [
        (before.active, before.state),
        (first.outcome, first.access.active, first.access.plan),
        again.outcome,
        stolen.outcome,
        bogus.outcome,
        (after.active, after.state, after.plan, after.order_id == first.access.order_id),
        malformed,
        unknown,
        wrong.outcome,
    ]


EXPECTED = [
    (False, AccessState.NONE),
    (ActivationOutcome.ACTIVATED, True, "one_time_basic"),
    ActivationOutcome.ALREADY_ACTIVE,
    ActivationOutcome.USED_BY_ANOTHER,
    ActivationOutcome.INVALID,
    (True, AccessState.ACTIVE, "one_time_basic", True),
    False,
    True,
    RestoreOutcome.INVALID_CODE,
]


async def _token(app: Litestar, core: Core) -> str:
    async with AsyncTestClient(app) as client:
        return await paid_order(client, core)


@pytest.mark.parametrize("adapter", ["in-process", "http"])
async def test_both_adapters_answer_the_same_scenario_alike(adapter: str) -> None:
    app, core = make_app()
    token = await _token(app, core)
    client: AccessClient = core.access_client() if adapter == "in-process" else http_client(app)
    assert await scenario(client, token) == EXPECTED


async def test_http_adapter_maps_the_envelope_and_outages_to_domain_errors() -> None:
    app, _ = make_app()
    with pytest.raises(Unauthorized):
        await http_client(app, token="wrong-token-0123456789").status(BUYER)
    down = HttpAccessClient("http://127.0.0.1:9", INTERNAL_TOKEN)  # nothing listens there
    with pytest.raises(ServiceUnavailable) as error:
        await down.status(BUYER)
    assert INTERNAL_TOKEN not in str(error.value)
    await down.aclose()


def test_the_container_picks_the_adapter_from_bot_access_api_url() -> None:
    from accessgate.container import create_memory_container

    local = create_memory_container(make_settings())
    assert not isinstance(bot_access_client(local), HttpAccessClient)
    remote = create_memory_container(make_settings(bot_access_api_url="http://accessgate:8000"))
    assert isinstance(bot_access_client(remote), HttpAccessClient)
