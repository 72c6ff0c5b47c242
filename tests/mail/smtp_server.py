"""A real SMTP server for the mail tests: aiosmtpd on 127.0.0.1, a free port, optional TLS and AUTH."""

from __future__ import annotations

import asyncio
import contextlib
import email
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage as MimeMessage
from email.policy import default as default_policy
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"
USERNAME = "shop@example.com"
PASSWORD = "app-password-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    message: MimeMessage
    raw: bytes


@dataclass
class CountingHandler:
    """Accepts every message and keeps it; ``refuse`` maps a recipient to an SMTP reply."""

    refuse: dict[str, str] = field(default_factory=dict)
    messages: list[Delivered] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    async def handle_RCPT(  # noqa: N802 (the aiosmtpd hook name)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = bytes(envelope.original_content or envelope.content)
        parsed = email.message_from_bytes(raw, policy=default_policy)
        assert isinstance(parsed, MimeMessage)
        with self._lock:
            self.messages.append(
                Delivered(envelope.mail_from, list(envelope.rcpt_tos), parsed, raw)
            )
        return "250 Message accepted"


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USERNAME.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class Tls:
    """A private CA and a certificate for 127.0.0.1, made in the test."""

    server: ssl.SSLContext
    client: ssl.SSLContext


def make_tls() -> Tls:
    ca = trustme.CA()
    cert = ca.issue_cert(HOST, "localhost")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return Tls(server=server, client=client)


@contextlib.contextmanager
def smtp_server(
    handler: CountingHandler, port: int | None = None, **options: Any
) -> Iterator[Controller]:
    """Run aiosmtpd in its thread for the duration of the block."""
    controller = Controller(handler, hostname=HOST, port=port or free_port(), **options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@contextlib.asynccontextmanager
async def black_hole() -> AsyncIterator[tuple[int, asyncio.Event]]:
    """A TCP server that accepts connections and never says a word (a hung SMTP server)."""
    connected = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        connected.set()

    server = await asyncio.start_server(on_connect, HOST, 0)
    port: int = server.sockets[0].getsockname()[1]
    try:
        yield port, connected
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


def parts(message: MimeMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies of a delivered email."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    return str(text.get_content()), str(html.get_content())
