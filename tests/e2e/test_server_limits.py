"""What one client can hold on a served process: slow heads, slow bodies, hang-ups, shutdown.

Each test runs ``accessgate serve`` as a subprocess with short limits and
talks to it over raw loopback sockets. Every wait is bounded in count and time.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Server, running_server

BOUND = 30.0
SLOW_CLIENTS = 120
PARTIAL_HEAD = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def _connect(server: Server) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=BOUND)
    sock.settimeout(BOUND)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by BOUND)."""
    received = b""
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    raise AssertionError("the server kept the connection open")


def _health(server: Server) -> int:
    return httpx.get(f"{server.base_url}/health", timeout=BOUND).status_code


def _errors(server: Server) -> list[dict[str, object]]:
    return [r for r in server.records() if r["level"] in ("ERROR", "CRITICAL") or "exception" in r]


@contextmanager
def _sockets(count: int, server: Server) -> Iterator[list[socket.socket]]:
    with ExitStack() as stack:
        socks = []
        for _ in range(count):
            sock = _connect(server)
            stack.callback(sock.close)
            socks.append(sock)
        yield socks


def test_slow_request_heads_are_closed_and_health_keeps_answering(tmp_path: Path) -> None:
    env = {"HTTP_HEADER_TIMEOUT": "2", "HTTP_BODY_TIMEOUT": "2"}
    with running_server(tmp_path, env) as server, _sockets(SLOW_CLIENTS, server) as slow:
        for sock in slow:
            sock.sendall(PARTIAL_HEAD)  # never finished
        assert _health(server) == 200  # while they are open
        for sock in slow:
            answer = _read_until_closed(sock)
            assert answer.startswith(b"HTTP/1.1 408 "), answer[:80]
        assert _health(server) == 200  # and after
        # A second request on a kept-alive connection gets the same deadline.
        with _connect(server) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            first = b""
            while not first.endswith(b"}"):  # the JSON body of /health ends the answer
                chunk = sock.recv(4096)
                assert chunk, "the server closed a kept-alive connection"
                first += chunk
            assert first.startswith(b"HTTP/1.1 200 ")
            sock.sendall(PARTIAL_HEAD)
            assert _read_until_closed(sock).startswith(b"HTTP/1.1 408 ")
        # A connection that never sends a byte is closed too.
        with _connect(server) as sock:
            assert _read_until_closed(sock).startswith(b"HTTP/1.1 408 ")
        assert not _errors(server)


def test_a_slow_body_is_cut_and_logged_quietly(tmp_path: Path) -> None:
    env = {"HTTP_HEADER_TIMEOUT": "2", "HTTP_BODY_TIMEOUT": "2"}
    with running_server(tmp_path, env) as server, _connect(server) as sock:
        sock.sendall(
            b"POST /api/payment/checkout-session HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n"
            b'{"mode": "one_time", '
        )
        _read_until_closed(sock)
        server.wait_for_records(lambda r: "client disconnected" in str(r["message"]))
        assert _health(server) == 200
        assert not _errors(server)


def test_a_client_that_hangs_up_mid_body_is_not_an_error(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        for path in (
            "/api/payment/checkout-session",
            "/webhook/sandbox",
            "/api/auth/restore/request",
        ):
            with _connect(server) as sock:
                sock.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
                    + b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                    + b'{"mode": "one_time", "plan": '
                )
        found = server.wait_for_records(
            lambda r: "client disconnected" in str(r["message"]), count=3
        )
        assert all(r["level"] == "INFO" for r in found)
        assert _health(server) == 200
        assert not _errors(server)


def test_sigterm_with_a_request_in_flight_exits_within_the_shutdown_timeout(
    tmp_path: Path,
) -> None:
    env = {"HTTP_SHUTDOWN_TIMEOUT": "1", "HTTP_BODY_TIMEOUT": "600"}
    with running_server(tmp_path, env) as server, _connect(server) as sock:
        sock.sendall(
            b"POST /api/payment/checkout-session HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
        )
        # The request is in flight once the app waits for its body: a later request
        # on another connection is answered after this one was taken in.
        assert _health(server) == 200
        server.process.send_signal(signal.SIGTERM)
        # Before the fix this waited for the client forever (TimeoutExpired here).
        # uvicorn re-raises the signal it handled once it is done: -SIGTERM is a clean stop.
        assert server.process.wait(timeout=BOUND) in (0, -signal.SIGTERM)
        messages = [str(r["message"]) for r in server.records()]
        assert any("timeout graceful shutdown exceeded" in m for m in messages)


def test_serve_raises_the_open_file_soft_limit_to_the_hard_limit(tmp_path: Path) -> None:
    resource = pytest.importorskip("resource")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    lowered = 256
    if hard != resource.RLIM_INFINITY and hard <= lowered:
        pytest.skip("the hard limit of open files is too low to tell")
    prelude = (
        "import resource\n"
        "hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]\n"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({lowered}, hard))"
    )
    with running_server(tmp_path, prelude=prelude) as server:
        limits = Path(f"/proc/{server.process.pid}/limits")
        if not limits.exists():
            pytest.skip("no /proc on this system")
        line = next(x for x in limits.read_text().splitlines() if x.startswith("Max open files"))
        soft = line.split()[3]
        expected = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
        assert soft in (expected, "1048576"), line


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_both_event_loops_serve_requests_and_deadlines(tmp_path: Path, loop: str) -> None:
    pytest.importorskip(loop)
    env = {"HTTP_EVENT_LOOP": loop, "HTTP_HEADER_TIMEOUT": "2"}
    with running_server(tmp_path, env) as server:  # answers /health before it yields
        answer = httpx.post(
            f"{server.base_url}/api/payment/checkout-session",
            json={"mode": "one_time", "plan": "one_time_basic", "email": "a@example.com"},
            timeout=BOUND,
        )
        assert answer.status_code == 200, answer.text
        with _connect(server) as sock:
            sock.sendall(PARTIAL_HEAD)
            assert _read_until_closed(sock).startswith(b"HTTP/1.1 408 ")
        assert f"event loop {loop}" in server.log_path.read_text()
