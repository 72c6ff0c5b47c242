"""Deadlines for reading a request: uvicorn's HTTP protocol with a header and a body timeout.

Uvicorn closes idle keep-alive connections, but waits forever for a request
that arrives slowly: a client that sends its headers one byte at a time (or
never finishes them) keeps a connection and a file descriptor for as long as it
likes, and a few thousand of them starve the server ("slowloris"). The
protocol classes here add two deadlines to uvicorn's own protocol (httptools
when installed, else h11), chosen with ``uvicorn.run(..., http=...)``:

* the request head (request line and headers) must be complete within
  ``header_timeout`` seconds of the connection opening, or of the first byte of
  a further request on a kept-alive connection; otherwise the server answers
  ``408 Request Timeout`` and closes the connection;
* the body must be complete within ``body_timeout`` seconds of the head;
  otherwise the connection is closed (the application sees a client that
  went away).

The timeouts are class attributes, set once per process by
:func:`configure_timeouts` (``accessgate serve`` does it from
``HTTP_HEADER_TIMEOUT`` and ``HTTP_BODY_TIMEOUT``); the classes stay importable
by name, so they also work in uvicorn's worker processes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

from uvicorn.protocols.http.h11_impl import H11Protocol

logger = logging.getLogger("accessgate.serve")

REQUEST_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 16\r\n"
    b"connection: close\r\n"
    b"\r\n"
    b"Request Timeout\n"
)
DEFAULT_HEADER_TIMEOUT = 15.0
DEFAULT_BODY_TIMEOUT = 30.0


class RequestDeadline:
    """Mixin over a uvicorn HTTP protocol: close requests that are not read in time.

    Relies on what both uvicorn protocols share: ``transport``, ``loop``,
    ``cycle`` (the current request, ``None`` before the first) with its
    ``more_body`` and ``response_complete`` flags.
    """

    header_timeout: ClassVar[float] = DEFAULT_HEADER_TIMEOUT
    body_timeout: ClassVar[float] = DEFAULT_BODY_TIMEOUT
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    cycle: Any

    _deadline: asyncio.TimerHandle | None = None
    _head_of: Any = None  # the cycle that was current when the head deadline was armed
    _reading_body = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start the head deadline as soon as the connection opens."""
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_head()

    def data_received(self, data: bytes) -> None:
        """Arm the head deadline for a new request; move to the body deadline, then disarm."""
        if self._deadline is None and (self.cycle is None or self.cycle.response_complete):
            self._arm_head()
        super().data_received(data)  # type: ignore[misc]
        self._follow_request()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the deadline with the connection."""
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _follow_request(self) -> None:
        if self._deadline is None:
            return
        cycle = self.cycle
        if cycle is None or cycle is self._head_of:
            return  # the head of the new request is still incomplete
        if not cycle.more_body:
            self._disarm()  # the whole request is in
        elif not self._reading_body:
            self._disarm()
            self._reading_body = True
            self._deadline = self.loop.call_later(self.body_timeout, self._expire)

    def _arm_head(self) -> None:
        self._disarm()
        self._head_of = self.cycle
        self._reading_body = False
        self._deadline = self.loop.call_later(self.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        transport = self.transport
        protocol: object = transport.get_protocol()
        if transport.is_closing() or protocol is not self:
            return  # closed already, or upgraded to another protocol
        if self._reading_body:
            logger.debug("closing a connection whose request body was not complete in time")
        else:
            logger.debug("closing a connection whose request head was not complete in time")
            transport.write(REQUEST_TIMEOUT_RESPONSE)
        transport.close()


class DeadlineH11Protocol(RequestDeadline, H11Protocol):
    """uvicorn's h11 protocol with request deadlines."""


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - uvicorn without httptools
    PROTOCOL: type[asyncio.Protocol] = DeadlineH11Protocol
else:

    class DeadlineHttpToolsProtocol(RequestDeadline, HttpToolsProtocol):
        """uvicorn's httptools protocol with request deadlines."""

    PROTOCOL = DeadlineHttpToolsProtocol


def configure_timeouts(header_timeout: float, body_timeout: float) -> type[asyncio.Protocol]:
    """Set the deadlines of this process's protocols; return the one to pass as ``http=``."""
    if header_timeout <= 0 or body_timeout <= 0:
        raise ValueError("request timeouts must be positive")
    RequestDeadline.header_timeout = header_timeout
    RequestDeadline.body_timeout = body_timeout
    return PROTOCOL
