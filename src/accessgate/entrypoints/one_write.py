"""One ``send`` per response: the writes of one event-loop turn leave the server together.

Uvicorn writes a response's head and its body separately, so each small
response costs two ``send`` system calls and two TCP segments; on a virtual
machine a system call is tens of microseconds. :class:`TurnWrites` wraps the
connection's transport: what is written is kept and written once, as soon as
the response is complete (a streamed response: at the end of each turn of the
event loop that wrote to it), and before the connection is closed or half-closed.
"""

from __future__ import annotations

import asyncio
from typing import Any


class TurnWrites(asyncio.Transport):
    """A socket transport whose writes within one loop turn go out as one ``write``.

    Args:
        transport: the connection's own transport (asyncio's, or uvloop's, which
            has the same methods without being an ``asyncio.Transport``).
        loop: the event loop the connection runs on.

    """

    __slots__ = ("_due", "_kept", "_loop", "_transport")

    def __init__(self, transport: Any, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport: asyncio.Transport = transport
        self._loop = loop
        self._kept: list[bytes] = []
        self._due: asyncio.Handle | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Keep ``data`` for the one write at the end of this turn."""
        if not data:
            return
        self._kept.append(bytes(data))
        if self._due is None:
            self._due = self._loop.call_soon(self.flush)

    def writelines(self, list_of_data: Any) -> None:
        """Keep every chunk for the one write at the end of this turn."""
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Write what is kept now, as one write."""
        if self._due is not None:
            self._due.cancel()
            self._due = None
        kept, self._kept = self._kept, []
        if kept and not self._transport.is_closing():
            self._transport.write(kept[0] if len(kept) == 1 else b"".join(kept))

    def close(self) -> None:
        """Write what is kept, then close."""
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        """Write what is kept, then half-close."""
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        """Drop what is kept and close at once."""
        if self._due is not None:
            self._due.cancel()
            self._due = None
        self._kept = []
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        """The bytes kept here and in the transport's own buffer."""
        return self._transport.get_write_buffer_size() + sum(len(d) for d in self._kept)

    def can_write_eof(self) -> bool:
        """Whether the transport can half-close."""
        return self._transport.can_write_eof()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The transport's own extra information (socket, peer name, SSL object)."""
        return self._transport.get_extra_info(name, default)

    def is_closing(self) -> bool:
        """Whether the transport is closing or closed."""
        return self._transport.is_closing()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        """Hand the connection to another protocol (what is kept is written first)."""
        self.flush()
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        """The connection's protocol."""
        return self._transport.get_protocol()

    def is_reading(self) -> bool:
        """Whether the transport is receiving."""
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        """Stop receiving until :meth:`resume_reading`."""
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        """Receive again."""
        self._transport.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        """The flow-control limits of the transport's own buffer."""
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        """The flow-control limits of the transport's own buffer."""
        return self._transport.get_write_buffer_limits()


class OneWritePerTurn:
    """Mixin over a uvicorn HTTP protocol: its transport is a :class:`TurnWrites`."""

    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Hand uvicorn the wrapped transport."""
        wrapped = TurnWrites(transport, asyncio.get_running_loop())
        super().connection_made(wrapped)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        """The whole response is written: send it now, not at the end of the turn."""
        if isinstance(self.transport, TurnWrites):
            self.transport.flush()
        super().on_response_complete()  # type: ignore[misc]
