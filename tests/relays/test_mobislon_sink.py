"""The MobiSlon sink against a local tracker: what arrives, and how failures are classed."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web

from accessgate.adapters.mobislon import MobislonPostbackSink
from accessgate.domain.model.outbox import Channel
from accessgate.ports.tracking import TrackingEvent
from tests.relays.conftest import BINOM
from tests.relays.servers import Received, StubServer


def postback(clickid: str = "clk-1", status: str = "start_quiz", **extra: str) -> TrackingEvent:
    payload = {"clickid": clickid, "status": status, **extra}
    return TrackingEvent(
        message_id=f"msg_{clickid}_{status}", channel=Channel.MOBISLON, payload=payload
    )


async def test_binom_postback_arrives_as_a_get_with_encoded_values(graph: StubServer) -> None:
    sink = MobislonPostbackSink(graph.base_url + BINOM)
    clickid = "a b&c=d/é?#%"
    results = await sink.deliver(
        [postback(clickid, "block3_completed"), postback("x", "pay_success")]
    )
    assert results == [None, None]
    assert len(graph.received) == 2
    by_id = {r.query["cnv_id"]: r for r in graph.received}
    request = by_id[clickid]
    assert request.method == "GET"
    assert request.path == "/index.php"
    assert request.query == {"cnv_id": clickid, "payout": "0", "cnv_status": "block3_completed"}
    assert by_id["x"].query["cnv_status"] == "pay_success"
    await sink.aclose()


async def test_post_method_and_optional_placeholders(graph: StubServer) -> None:
    template = graph.base_url + "/pb/{status}?click={clickid}&sid={session_id}&p={page_path}"
    sink = MobislonPostbackSink(template, method="POST")
    await sink.deliver([postback("c1", "start_quiz", session_id="s 1", page_path="/quiz/2")])
    [request] = graph.received
    assert request.method == "POST"
    assert request.path == "/pb/start_quiz"
    assert request.query == {"click": "c1", "sid": "s 1", "p": "/quiz/2"}
    await sink.deliver([postback("c2", "start_quiz")])
    assert graph.received[1].query == {"click": "c2", "sid": "", "p": ""}


@pytest.mark.parametrize(
    "template",
    [
        "https://t.example/index.php?cnv_id={clickid}",
        "https://t.example/index.php?cnv_status={status}",
        "https://t.example/?c={clickid}&s={status}&x={secret}",
        "https://t.example/?c={clickid}&s={status:>10}",
        "https://t.example/?c={clickid}&s={status",
        "ftp://t.example/?c={clickid}&s={status}",
    ],
)
def test_template_is_checked_at_construction(template: str) -> None:
    with pytest.raises(ValueError, match=r"template|http"):
        MobislonPostbackSink(template)


def test_only_get_and_post() -> None:
    with pytest.raises(ValueError, match="GET or POST"):
        MobislonPostbackSink("https://t.example/?c={clickid}&s={status}", method="PUT")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (500, True),
        (502, True),
        (503, True),
        (429, True),
        (408, True),
        (404, False),
        (400, False),
        (403, False),
    ],
)
async def test_http_status_classes(graph: StubServer, status: int, retryable: bool) -> None:
    async def answer(_: Received) -> web.StreamResponse:
        return web.Response(status=status)

    graph.responder = answer
    [result] = await MobislonPostbackSink(graph.base_url + BINOM).deliver([postback()])
    assert result is not None
    assert result.retryable is retryable
    assert f"HTTP {status}" in result.reason


async def test_any_2xx_and_redirects_deliver(graph: StubServer) -> None:
    async def answer(request: Received) -> web.StreamResponse:
        if request.path == "/old":
            raise web.HTTPFound("/index.php?moved=1")
        return web.Response(status=204)

    graph.responder = answer
    sink = MobislonPostbackSink(graph.base_url + "/old?c={clickid}&s={status}")
    assert await sink.deliver([postback()]) == [None]
    assert [r.path for r in graph.received] == ["/old", "/index.php"]


async def test_timeout_and_refused_connection_are_retryable(
    graph: StubServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def slow(_: Received) -> web.StreamResponse:
        await asyncio.sleep(0.5)
        return web.Response(text="ok")

    graph.responder = slow
    template = graph.base_url + BINOM + "&key=tracker-secret-key"
    with caplog.at_level(logging.WARNING, logger="accessgate"):
        [result] = await MobislonPostbackSink(template, timeout=0.1).deliver([postback()])
        assert result is not None
        assert result.retryable
        assert "did not answer" in result.reason
        await graph.down()
        [result] = await MobislonPostbackSink(template).deliver([postback()])
    assert result is not None
    assert result.retryable
    assert "cannot reach tracker 127.0.0.1" in result.reason
    mine = [r.getMessage() for r in caplog.records if r.name.startswith("accessgate")]
    assert len(mine) == 2
    assert not any("tracker-secret-key" in m for m in mine)


async def test_event_without_clickid_is_not_sent(graph: StubServer) -> None:
    [result] = await MobislonPostbackSink(graph.base_url + BINOM).deliver([postback(clickid="")])
    assert result is not None
    assert not result.retryable
    assert graph.received == []
