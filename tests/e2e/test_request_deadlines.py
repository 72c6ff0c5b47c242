"""The request deadlines on both of uvicorn's HTTP protocols (httptools and h11), in process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from accessgate.entrypoints import slow_clients
from accessgate.entrypoints.slow_clients import DeadlineH11Protocol, configure_timeouts
from tests.e2e.server import serving_in_process

BOUND = 20.0
PROTOCOLS = [pytest.param(DeadlineH11Protocol, id="h11")]
if hasattr(slow_clients, "DeadlineHttpToolsProtocol"):
    PROTOCOLS.append(pytest.param(slow_clients.DeadlineHttpToolsProtocol, id="httptools"))


async def echo_length(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A tiny ASGI app: answers the length of the body it read."""
    assert scope["type"] == "http"
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = str(size).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@asynccontextmanager
async def serving(protocol: type[asyncio.Protocol]) -> AsyncIterator[int]:
    configure_timeouts(0.5, 0.5)
    try:
        async with serving_in_process(echo_length, protocol) as port:
            yield port
    finally:
        configure_timeouts(slow_clients.DEFAULT_HEADER_TIMEOUT, slow_clients.DEFAULT_BODY_TIMEOUT)


async def _exchange(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), BOUND)  # until the server closes
    finally:
        writer.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_incomplete_head_gets_408_and_is_closed(protocol: type[asyncio.Protocol]) -> None:
    async with serving(protocol) as port:
        answer = await _exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        assert answer.startswith(b"HTTP/1.1 408 ")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_incomplete_body_is_closed(protocol: type[asyncio.Protocol]) -> None:
    async with serving(protocol) as port:
        answer = await _exchange(
            port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345"
        )
        assert b"200" not in answer


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_complete_requests_are_answered(protocol: type[asyncio.Protocol]) -> None:
    async with serving(protocol) as port:
        answer = await _exchange(
            port,
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n12345"
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        assert answer.startswith(b"HTTP/1.1 200 ")
        assert answer.count(b"HTTP/1.1 200 ") == 2
        assert b"408" not in answer
