"""``accessgate serve`` as a subprocess on a free loopback port, with its log captured.

Also: an ASGI app served by uvicorn in the test's own event loop (:func:`serving_in_process`).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from accessgate.config import Settings

START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
# Runs the CLI after a few lines of Python (``prelude``): hide a module, lower a limit.
CLI_AFTER_PRELUDE = (
    "import sys\n{prelude}\n"
    "from accessgate.entrypoints.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def cli_command(args: list[str], prelude: str | None = None) -> list[str]:
    """The command line of ``accessgate ARGS``, optionally after ``prelude``."""
    if prelude is None:
        return [sys.executable, "-m", "accessgate.entrypoints.cli", *args]
    return [sys.executable, "-c", CLI_AFTER_PRELUDE.format(prelude=prelude), *args]


def hide_modules(*names: str) -> str:
    """A prelude that makes ``import NAME`` fail as if the package were not installed."""
    return "\n".join(f"sys.modules[{name!r}] = None" for name in names)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running server: its base URL, environment and JSON log."""

    base_url: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes]

    def records(self) -> list[dict[str, Any]]:
        """Every JSON log record written so far (non-JSON lines are skipped)."""
        records = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return records

    def wait_for_records(
        self, match: Callable[[dict[str, Any]], bool], count: int = 1, timeout: float = 20.0
    ) -> list[dict[str, Any]]:
        """The matching records once there are ``count`` of them; fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.records() if match(r)]
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) >= count, f"expected {count} log records, found {len(found)}"
                return found
            time.sleep(0.1)


@contextmanager
def running_server(
    workdir: Path,
    extra_env: dict[str, str] | None = None,
    args: list[str] | None = None,
    prelude: str | None = None,
) -> Iterator[Server]:
    """Start ``python -m accessgate.entrypoints.cli serve``; always stop it."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings_names = {name.upper() for name in Settings.__struct_fields__}
    env = {key: value for key, value in os.environ.items() if key not in settings_names}
    env |= {
        "APP_PUBLIC_BASE_URL": base_url,
        "INTERNAL_API_TOKEN": "e2e-internal-token-0123456789",
        "RATE_LIMIT_ENABLED": "false",
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'accessgate.db'}",
        "OUTBOX_POLL_INTERVAL": "0.2",
        "SANDBOX_WEBHOOK_SECRET": "e2e-sandbox-webhook-secret",
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    }
    env |= extra_env or {}
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            cli_command(["serve", "--port", str(port), *(args or [])], prelude),
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(base_url=base_url, env=env, log_path=log_path, process=process)
    try:
        _wait_healthy(server)
        yield server
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> None:
    """Ask a process to stop (SIGTERM), kill it if it has not within ``timeout``."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(
                f"the server exited with {server.process.returncode}:\n"
                + server.log_path.read_text(errors="replace")[-4000:]
            )
        try:
            if httpx.get(f"{server.base_url}/health", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not answer /health in time")


@asynccontextmanager
async def serving_in_process(app: Any, protocol: type[asyncio.Protocol]) -> AsyncIterator[int]:
    """``app`` served by uvicorn with the HTTP ``protocol`` in this event loop; its port."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http=protocol, lifespan="off", log_config=None
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):  # bounded: 200 x 0.05 s
            if server.started:
                break
            await asyncio.sleep(0.05)
        assert server.started
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, STOP_TIMEOUT)
