"""One write per response: uvicorn's head and body leave the server in one ``send``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from accessgate.entrypoints import slow_clients
from accessgate.entrypoints.slow_clients import DeadlineH11Protocol
from tests.e2e.server import serving_in_process
from tests.e2e.test_request_deadlines import BOUND

PROTOCOLS = [pytest.param(DeadlineH11Protocol, id="h11")]
if hasattr(slow_clients, "DeadlineHttpToolsProtocol"):
    PROTOCOLS.append(pytest.param(slow_clients.DeadlineHttpToolsProtocol, id="httptools"))


async def echo_length(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers the length of the body it read, with a ``content-length``."""
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = str(size).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def recording(protocol: type[asyncio.Protocol], sent: list[bytes]) -> type[asyncio.Protocol]:
    """``protocol``, with what reaches each connection's socket transport noted in ``sent``."""

    class Recording(protocol):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: Any) -> None:
            write = transport.write

            def noted(data: bytes) -> None:
                sent.append(bytes(data))
                write(data)

            transport.write = noted
            super().connection_made(transport)

    return Recording


async def _read_response(reader: asyncio.StreamReader) -> bytes:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), BOUND)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    return head + await asyncio.wait_for(reader.readexactly(length), BOUND)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_each_response_leaves_in_one_write(protocol: type[asyncio.Protocol]) -> None:
    sent: list[bytes] = []
    async with serving_in_process(echo_length, recording(protocol, sent)) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for body in (b"", b"abc", b"x" * 5000):  # three requests on one kept-alive connection
                writer.write(
                    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                    % (len(body), body)
                )
                answer = await _read_response(reader)
                assert answer.startswith(b"HTTP/1.1 200 ")
                assert answer.endswith(str(len(body)).encode())
        finally:
            writer.close()
    assert len(sent) == 3
    assert [s.split(b"\r\n\r\n", 1)[1] for s in sent] == [b"0", b"3", b"5000"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_closing_response_is_written_whole_before_the_close(
    protocol: type[asyncio.Protocol],
) -> None:
    sent: list[bytes] = []
    async with serving_in_process(echo_length, recording(protocol, sent)) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi"
            )
            answer = await asyncio.wait_for(reader.read(), BOUND)  # until the server closes
        finally:
            writer.close()
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b"\r\n\r\n2")
    assert sent == [answer]
