"""``accessgate serve`` and ``accessgate worker`` as processes: bad settings, signals, workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.server import Server, running_server

BOUND = 30.0


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "accessgate.entrypoints.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )


def test_a_bad_setting_stops_serve_with_one_line(tmp_path: Path) -> None:
    env = dict(os.environ) | {"PAYMENT_PROVIDER": "stripe"}
    result = _run(["serve", "--port", "1"], env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "STRIPE_SECRET_KEY" in lines[0]
    sandbox_in_production = dict(os.environ) | {
        "ACCESSGATE_ENV": "production",
        "SECRET_KEY": "a-production-secret-key-0123456789",
        "SMTP_HOST": "smtp.example.com",
        "SMTP_FROM": "shop@example.com",
    }
    refused = _run(["worker"], sandbox_in_production, tmp_path)
    assert refused.returncode == 2
    assert "PAYMENT_PROVIDER=sandbox is refused" in refused.stderr


def test_worker_runs_until_sigterm(tmp_path: Path) -> None:
    env = dict(os.environ) | {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'w.db'}",
        "OUTBOX_POLL_INTERVAL": "0.1",
        "LOG_FORMAT": "text",
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "accessgate.entrypoints.cli", "worker"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + BOUND
        while "delivery loop started" not in log_path.read_text(errors="replace"):
            assert process.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=BOUND) == 0
        assert "delivery loop stopped" in log_path.read_text(errors="replace")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=BOUND)


def test_serve_with_two_workers_and_no_outbox_loop(tmp_path: Path) -> None:
    with running_server(tmp_path, args=["--workers", "2", "--no-worker"]) as server:
        _buy(server)
        messages = [str(r["message"]) for r in server.records()]
        assert not any("delivery loop started" in m for m in messages)
        started = {m for m in messages if "Started server process" in m}
        assert len(started) >= 2


def _buy(server: Server) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        response = client.post(
            "/api/payment/checkout-session",
            json={"mode": "one_time", "plan": "one_time_basic", "email": "w@example.com"},
        )
        assert response.status_code == 200, response.text
        assert client.get(response.json()["checkout_url"]).status_code == 200
