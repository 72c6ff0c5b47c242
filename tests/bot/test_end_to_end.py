"""End to end: ``accessgate serve`` and ``accessgate bot`` (polling) as subprocesses.

Both run against the local Bot API stand-in; the bot calls the service over HTTP
(``BOT_ACCESS_API_URL``, ``INTERNAL_API_TOKEN``). The
buyer pays in the sandbox, sends the deep link to the bot, is active and passes
the pay wall; a second account sending the same link is refused.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from accessgate.entrypoints.bot import texts
from tests.bot.telegram_api import BOT_USERNAME, TOKEN, TelegramApiStandIn, telegram_api
from tests.e2e.server import STOP_TIMEOUT, Server, cli_command, running_server, stop_process
from tests.e2e.test_purchase import checkout, internal, wait_for_status

BUYER = 9_000_001
OTHER = 9_000_002
WAIT = 30.0


@pytest.fixture
def stand_in() -> Iterator[TelegramApiStandIn]:
    with telegram_api() as api:
        yield api


def bot_env(api: TelegramApiStandIn) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BOT_USERNAME": BOT_USERNAME,
        "TELEGRAM_API_BASE": api.base_url,
        "BOT_MODE": "polling",
    }


@pytest.fixture
def bot_process(
    stand_in: TelegramApiStandIn, tmp_path: Path
) -> Iterator[tuple[Server, subprocess.Popen[bytes], Path]]:
    with running_server(tmp_path, extra_env=bot_env(stand_in)) as server:
        log_path = tmp_path / "bot.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                cli_command(["bot"]),
                cwd=tmp_path,
                # The bot as its own service: the HTTP AccessClient calls /api/bot/*.
                env=server.env | {"BOT_ACCESS_API_URL": server.base_url},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            yield server, process, log_path
        finally:
            stop_process(process)


def test_pay_send_the_deep_link_pass_the_wall_and_refuse_another_account(
    stand_in: TelegramApiStandIn,
    bot_process: tuple[Server, subprocess.Popen[bytes], Path],
) -> None:
    server, process, log_path = bot_process
    stand_in.wait_for(lambda calls: any(c.method == "getUpdates" for c in calls), WAIT)
    assert [c["command"] for c in stand_in.commands("ru")] == ["start", "restore", "help", "cancel"]

    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        started = checkout(client, "bot-buyer@example.com")
        paid = client.post(
            f"/sandbox/checkout/{started['session_id']}/pay", headers={"Origin": server.base_url}
        )
        assert paid.status_code == 303
        link = wait_for_status(client, started["session_id"], "token_issued")["activation_link"]
        assert link.startswith(f"https://t.me/{BOT_USERNAME}?start=")
        token = parse_qs(urlsplit(link).query)["start"][0]

        stand_in.send_text(BUYER, f"/start {token}")
        (welcome,) = stand_in.wait_sent(BUYER, 1, WAIT)
        assert welcome["text"].startswith("Access activated")
        status = client.post(
            "/api/bot/access/status", json={"telegram_user_id": BUYER}, headers=internal(server)
        ).json()
        assert (status["is_paid"], status["access_status"]) == (True, "active")

        # A plain message of the active buyer reaches the shop's routers, not the wall:
        # the default dispatcher has none, so nothing is answered. /help after it shows
        # the bot has handled both.
        hello = stand_in.send_text(BUYER, "hello")
        stand_in.wait_for(
            lambda calls: any(
                c.method == "getUpdates" and int(c.params.get("offset") or 0) > hello for c in calls
            ),
            WAIT,
        )
        stand_in.send_text(BUYER, "/help")
        answers = stand_in.wait_sent(BUYER, 2, WAIT)
        assert "/restore" in answers[1]["text"]
        assert all(texts.pay_wall_text("en") != a["text"] for a in answers)
        assert all("reply_markup" not in a for a in answers[1:])

        stand_in.send_text(OTHER, f"/start {token}")
        (refusal,) = stand_in.wait_sent(OTHER, 1, WAIT)
        assert refusal["text"] == texts.used_by_another_text("en")
        other = client.post(
            "/api/bot/access/status", json={"telegram_user_id": OTHER}, headers=internal(server)
        ).json()
        assert other["is_paid"] is False or other["access_status"] != "active"

    assert process.poll() is None  # still polling
    process.terminate()
    assert process.wait(timeout=STOP_TIMEOUT) == 0
    assert TOKEN not in log_path.read_text(errors="replace")


def test_serve_in_webhook_mode_after_bot_set_webhook(
    stand_in: TelegramApiStandIn, tmp_path: Path
) -> None:
    secret = "e2e-webhook-secret_0123456789"
    env = bot_env(stand_in) | {"BOT_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": secret}
    with running_server(tmp_path, extra_env=env) as server:
        registered = subprocess.run(  # noqa: S603 - our own interpreter and module
            cli_command(["bot", "set-webhook"]),
            cwd=tmp_path,
            env=server.env,
            capture_output=True,
            timeout=WAIT,
            check=False,
        )
        assert registered.returncode == 0, registered.stderr
        assert secret not in registered.stdout.decode()  # the URL is shown masked
        assert stand_in.webhook == (f"{server.base_url}/tg/webhook/{secret}", secret)

        answered = stand_in.deliver_webhook(stand_in.message_update(BUYER, "/help"))
        assert answered.status_code == 200, answered.text
        assert "/restore" in stand_in.sent(BUYER)[0]["text"]

        forged = httpx.post(
            f"{server.base_url}/tg/webhook/{secret}",
            json={"update_id": 1, **stand_in.message_update(OTHER, "/help")},
            headers={"X-Telegram-Bot-Api-Secret-Token": "forged"},
            timeout=10.0,
        )
        assert forged.status_code == 403
        assert forged.json()["error"]["code"] == "INVALID_SIGNATURE"
        assert stand_in.sent(OTHER) == []
        assert secret not in server.log_path.read_text(errors="replace")


def test_serve_bot_runs_http_and_polling_in_one_process(
    stand_in: TelegramApiStandIn, tmp_path: Path
) -> None:
    with running_server(tmp_path, extra_env=bot_env(stand_in), args=["--bot"]):
        stand_in.send_text(BUYER, "/help")
        (answer,) = stand_in.wait_sent(BUYER, 1, WAIT)
        assert "/restore" in answer["text"]


@pytest.mark.parametrize(
    ("args", "env", "variable"),
    [
        (["bot"], {}, "TELEGRAM_BOT_TOKEN"),
        (["bot", "set-webhook"], {"TELEGRAM_BOT_TOKEN": TOKEN}, "TELEGRAM_WEBHOOK_SECRET"),
        (
            ["serve"],
            {"BOT_MODE": "webhook", "TELEGRAM_BOT_TOKEN": TOKEN},
            "TELEGRAM_WEBHOOK_SECRET",
        ),
    ],
)
def test_a_bot_without_its_settings_does_not_start(
    args: list[str], env: dict[str, str], variable: str, tmp_path: Path
) -> None:
    import os

    from accessgate.config import Settings

    names = {name.upper() for name in Settings.__struct_fields__}
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in names and not k.startswith(("TELEGRAM_", "BOT_"))
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        cli_command(args),
        cwd=tmp_path,
        env=clean | {"DATABASE_URL": "memory://"} | env,
        capture_output=True,
        timeout=WAIT,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert variable in lines[0]
    assert TOKEN not in lines[0]
