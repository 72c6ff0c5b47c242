"""The processes of a benchmark: the server under test and the wrk load generator.

Servers listen on 127.0.0.1 only; every wait here is bounded. CPU time comes
from ``/proc/<pid>/stat`` (server) and ``RUSAGE_CHILDREN`` (wrk), peak memory from
``VmHWM`` in ``/proc/<pid>/status``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK")
LUA = Path(__file__).with_name("replay.lua")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A server process started with ``argv`` and ``env``, logging to ``log``."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.argv = argv
        self._log = log.open("ab")
        self.proc = subprocess.Popen(argv, env=env, stdout=self._log, stderr=self._log)

    def wait_ready(self, path: str = "/health", timeout: float = 60.0) -> None:
        """Wait until ``GET path`` answers (any status below 500), or raise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: see the log")
            try:
                url = f"http://127.0.0.1:{self.port}{path}"
                with urllib.request.urlopen(url, timeout=2) as answer:
                    if answer.status < 500:
                        return
            except OSError as error:
                if getattr(error, "code", 0) and 400 <= error.code < 500:  # type: ignore[attr-defined]
                    return
            time.sleep(0.2)
        raise RuntimeError("server did not become ready in time")

    def cpu_seconds(self) -> float:
        """User + system CPU seconds used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def memory(self) -> dict[str, float]:
        """Peak (VmHWM) and current (VmRSS) resident memory in MB."""
        values: dict[str, float] = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                values[key] = int(rest.split()[0]) / 1024
        return values

    def stop(self, timeout: float = 15.0) -> None:
        """SIGINT, then SIGKILL after ``timeout`` seconds."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


@dataclass
class LoadResult:
    """What one wrk run measured."""

    figures: dict[str, Any]
    wall: float
    wrk_cpu: float
    server_cpu: float

    def summary(self, concurrency: int) -> dict[str, Any]:
        """The figures of the report."""
        f = self.figures
        seconds = f["duration_us"] / 1e6
        errors = sum(f[k] for k in f if k.startswith("errors_"))
        return {
            "concurrency": concurrency,
            "requests": f["requests"],
            "issued": f["issued"],
            "seconds": round(seconds, 2),
            "per_second": round(f["requests"] / seconds, 1),
            "p50_ms": round(f["p50_us"] / 1000, 2),
            "p90_ms": round(f["p90_us"] / 1000, 2),
            "p99_ms": round(f["p99_us"] / 1000, 2),
            "max_ms": round(f["max_us"] / 1000, 2),
            "errors": errors,
            "wrapped": f["wrapped"],
            "wrk_cpu_cores": round(self.wrk_cpu / self.wall, 2),
            "server_cpu_cores": round(self.server_cpu / self.wall, 2),
        }


def wrk_binary() -> str | None:
    """The wrk executable, if installed."""
    return shutil.which("wrk")


def run_wrk(
    server: Server, requests_file: Path, concurrency: int, seconds: float, timeout: float = 10.0
) -> LoadResult:
    """Replay ``requests_file`` against ``server`` for ``seconds`` with ``concurrency``."""
    wrk = wrk_binary()
    if wrk is None:
        raise RuntimeError("wrk is not installed")
    argv = [
        wrk, "-t1", f"-c{concurrency}", f"-d{seconds:g}s", f"--timeout={timeout:g}s",
        "-s", str(LUA), f"http://127.0.0.1:{server.port}/",
    ]  # fmt: skip
    env = {**os.environ, "BENCH_REQUESTS": str(requests_file)}
    cpu_before = server.cpu_seconds()
    children_before = children_cpu()
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=seconds + timeout + 30)
    wall = time.monotonic() - started
    server_cpu = server.cpu_seconds() - cpu_before
    usage = children_cpu() - children_before  # wrk is the only child reaped meanwhile
    line = next((x for x in out.decode().splitlines() if x.startswith("BENCH ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err.decode()[-500:]}")
    return LoadResult(json.loads(line[6:]), wall, usage, server_cpu)


def children_cpu() -> float:
    """CPU seconds of every reaped child so far (``RUSAGE_CHILDREN``)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
