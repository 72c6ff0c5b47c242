"""The Meta sink against a local Graph API: what arrives, field by field."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.meta import MetaConversionsSink
from accessgate.adapters.meta.events import major_units
from accessgate.domain.model.outbox import Channel
from accessgate.ports.tracking import TrackingEvent
from tests.relays.conftest import PIXEL, TOKEN
from tests.relays.servers import Received, StubServer

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/124.0"


def sink(server: StubServer, **options: object) -> MetaConversionsSink:
    return MetaConversionsSink(
        pixel_id=PIXEL,
        access_token=TOKEN,
        clock=SettableClock(NOW),
        api_base=server.base_url,
        **options,  # type: ignore[arg-type]
    )


def event(n: int = 1, **payload: str) -> TrackingEvent:
    base = {
        "event_name": "Lead",
        "event_time": str(int(NOW.timestamp()) - 60),
        "event_id": f"evt_{n}",
        "action_source": "website",
        "user_agent": UA,
    }
    return TrackingEvent(message_id=f"msg_{n}", channel=Channel.META, payload=base | payload)


async def test_events_arrive_field_by_field(graph: StubServer) -> None:
    purchase = event(
        2,
        event_name="Purchase",
        fbclid="IwAR2xYz_AbC-09",
        client_ip="203.0.113.7",
        email="buyer@example.com",
        value_minor="1999",
        currency="USD",
    )
    results = await sink(graph).deliver([event(1, fbclid="AbCdEf"), purchase])
    assert results == [None, None]
    [request] = graph.received
    assert request.method == "POST"
    assert request.path == f"/v18.0/{PIXEL}/events"
    assert request.query == {}
    body = request.json
    assert body["access_token"] == TOKEN
    assert "test_event_code" not in body
    lead, paid = body["data"]
    event_time = int(NOW.timestamp()) - 60
    assert lead == {
        "event_name": "Lead",
        "event_time": event_time,
        "event_id": "evt_1",
        "action_source": "website",
        "user_data": {"fbc": f"fb.1.{event_time * 1000}.AbCdEf", "client_user_agent": UA},
    }
    assert paid["event_name"] == "Purchase"
    assert paid["event_id"] == "evt_2"
    user = paid["user_data"]
    assert user["fbc"] == f"fb.1.{event_time * 1000}.IwAR2xYz_AbC-09"
    assert user["client_ip_address"] == "203.0.113.7"
    assert user["client_user_agent"] == UA
    assert user["em"] == [hashlib.sha256(b"buyer@example.com").hexdigest()]
    assert paid["custom_data"] == {"value": 19.99, "currency": "USD"}


async def test_email_is_normalised_before_hashing(graph: StubServer) -> None:
    await sink(graph).deliver([event(email="  Buyer@Example.COM ")])
    user = graph.received[0].json["data"][0]["user_data"]
    assert user["em"] == [hashlib.sha256(b"buyer@example.com").hexdigest()]


async def test_version_test_event_code_and_event_source_url(graph: StubServer) -> None:
    meta = sink(
        graph, api_version="v21.0", test_event_code="TEST4242", site_url="https://s.example"
    )
    await meta.deliver([event(page_path="/quiz/1")])
    request = graph.received[0]
    assert request.path == f"/v21.0/{PIXEL}/events"
    assert request.json["test_event_code"] == "TEST4242"
    assert request.json["data"][0]["event_source_url"] == "https://s.example/quiz/1"


@pytest.mark.parametrize(
    ("minor", "currency", "major"),
    [(1999, "USD", 19.99), (1900, "JPY", 1900), (12345, "KWD", 12.345), (5, "EUR", 0.05)],
)
def test_value_is_in_major_units_of_the_currency(minor: int, currency: str, major: float) -> None:
    assert major_units(minor, currency) == major


async def test_many_events_go_in_one_request_and_more_than_1000_are_split(
    graph: StubServer,
) -> None:
    meta = sink(graph)
    assert await meta.deliver([event(n) for n in range(250)]) == [None] * 250
    assert len(graph.received) == 1
    assert [e["event_id"] for e in graph.received[0].json["data"]] == [
        f"evt_{n}" for n in range(250)
    ]
    graph.received.clear()
    assert await meta.deliver([event(n) for n in range(2500)]) == [None] * 2500
    assert [len(r.json["data"]) for r in graph.received] == [1000, 1000, 500]


async def test_invalid_events_are_dropped_before_sending(
    graph: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    old = str(int((NOW - timedelta(days=7, minutes=1)).timestamp()))
    events = [
        event(1),
        event(2, event_time=old),
        event(3, user_agent=""),
        event(4, event_id=""),
        event(5, value_minor="12", currency="dollars"),
        event(6),
    ]
    with caplog.at_level(logging.WARNING):
        results = await sink(graph).deliver(events)
    assert results[0] is None
    assert results[5] is None
    for failure in results[1:5]:
        assert failure is not None
        assert not failure.retryable
    assert results[1] is not None
    assert "older than 7 days" in results[1].reason
    assert "older than 7 days" in caplog.text
    assert "msg_2" in caplog.text
    assert [e["event_id"] for e in graph.received[0].json["data"]] == ["evt_1", "evt_6"]


async def test_an_event_meta_refuses_is_isolated_from_its_batch(graph: StubServer) -> None:
    async def refuse_evt_3(request: Received) -> web.StreamResponse:
        if any(e["event_id"] == "evt_3" for e in request.json["data"]):
            error = {"message": "Invalid parameter", "code": 100, "error_user_msg": "bad fbc"}
            return web.json_response({"error": error}, status=400)
        return web.json_response({"events_received": len(request.json["data"])})

    graph.responder = refuse_evt_3
    results = await sink(graph).deliver([event(n) for n in range(8)])
    assert [r is None for r in results] == [True, True, True, False, True, True, True, True]
    assert results[3] is not None
    assert not results[3].retryable
    assert "bad fbc" in results[3].reason
    accepted = {
        e["event_id"]
        for r in graph.received
        if all(e["event_id"] != "evt_3" for e in r.json["data"])
        for e in r.json["data"]
    }
    assert accepted == {f"evt_{n}" for n in range(8)} - {"evt_3"}
    # 8 -> 4 + 4 -> 2 + 2 -> 1 + 1: the split costs a handful of requests, not one per event.
    assert len(graph.received) == 7


async def test_4xx_is_not_retried_and_never_shows_the_token(
    graph: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def expired(_: Received) -> web.StreamResponse:
        message = f"Error validating access token {TOKEN}: Session has expired"
        error = {"message": message, "type": "OAuthException", "code": 190}
        return web.json_response({"error": error}, status=400)

    graph.responder = expired
    with caplog.at_level(logging.DEBUG):
        [result] = await sink(graph).deliver([event()])
    assert result is not None
    assert not result.retryable
    assert "Session has expired" in result.reason
    assert "code 190" in result.reason
    assert TOKEN not in result.reason
    assert "Session has expired" in caplog.text
    assert TOKEN not in caplog.text
    assert len(graph.received) == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"error": {"message": "Service temporarily unavailable", "code": 2}}),
        (503, None),
        (429, None),
        (400, {"error": {"message": "User request limit reached", "code": 17}}),
    ],
)
async def test_5xx_and_throttling_are_retryable(
    graph: StubServer, status: int, body: object
) -> None:
    async def failing(_: Received) -> web.StreamResponse:
        if body is None:
            return web.Response(status=status, text="<html>oops</html>")
        return web.json_response(body, status=status)

    graph.responder = failing
    [result] = await sink(graph).deliver([event()])
    assert result is not None
    assert result.retryable
    assert f"HTTP {status}" in result.reason


async def test_timeout_and_refused_connection_are_retryable(graph: StubServer) -> None:
    async def slow(_: Received) -> web.StreamResponse:
        await asyncio.sleep(0.5)
        return web.json_response({"events_received": 1})

    graph.responder = slow
    [result] = await sink(graph, timeout=0.1).deliver([event()])
    assert result is not None
    assert result.retryable
    assert "did not answer" in result.reason
    await graph.down()
    [result] = await sink(graph).deliver([event()])
    assert result is not None
    assert result.retryable
    assert "cannot reach Meta" in result.reason


def test_construction_needs_pixel_and_token() -> None:
    with pytest.raises(ValueError, match="pixel id"):
        MetaConversionsSink(pixel_id="", access_token=TOKEN, clock=SettableClock())
    with pytest.raises(ValueError, match="batch_size"):
        MetaConversionsSink(pixel_id=PIXEL, access_token=TOKEN, clock=SettableClock(), batch_size=0)
