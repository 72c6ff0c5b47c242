"""A catalogue file with a third plan, sold and fulfilled by ``accessgate serve``; a broken one stops it.

``sub_quarterly`` (90 days, prices in RUB and XTR) is bought over real HTTP
through the sandbox, once in each currency: checkout, the sandbox page, its
signed webhook, fulfilment, activation; the access runs 90 days.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from accessgate.config import Settings
from tests.e2e.server import Server, cli_command, free_port, running_server
from tests.e2e.test_purchase import token_of, wait_for_status

BOUND = 60.0
CATALOGUE = """
[[plans]]
code = "one_time_basic"
mode = "one_time"
prices = { USD = 1900 }
titles = { en = "Lifetime access", ru = "Бессрочный доступ" }

[[plans]]
code = "sub_quarterly"
mode = "subscription"
period_days = 90
prices = { RUB = 149000, XTR = 1500 }
titles = { en = "Quarterly subscription", ru = "Подписка на квартал" }
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("catalogue")
    plans = workdir / "plans.toml"
    plans.write_text(CATALOGUE, encoding="utf-8")
    with running_server(workdir, {"PLANS_FILE": str(plans)}) as running:
        yield running


def _buy(client: httpx.Client, server: Server, currency: str, telegram_user: int) -> datetime:
    """Buy sub_quarterly in ``currency`` through the sandbox; the access's ``valid_until``."""
    started = client.post(
        "/api/payment/checkout-session",
        json={
            "mode": "subscription",
            "plan": "sub_quarterly",
            "email": f"{currency.lower()}@example.com",
            "currency": currency,
        },
    )
    assert started.status_code == 200, started.text
    session_id = started.json()["session_id"]
    page = client.get(started.json()["checkout_url"])
    assert "Quarterly subscription" in page.text
    assert {"RUB": "1490.00 RUB", "XTR": "1500 XTR"}[currency] in page.text
    before = datetime.now(UTC).replace(microsecond=0)
    paid = client.post(f"/sandbox/checkout/{session_id}/pay", headers={"Origin": server.base_url})
    assert paid.status_code == 303
    status = wait_for_status(client, session_id, "token_issued")
    after = datetime.now(UTC)
    assert (status["payment_status"], status["fulfillment_status"]) == ("paid", "fulfilled")
    activated = client.post(
        "/api/access/activate",
        json={
            "activation_token": token_of(status["activation_link"]),
            "telegram_user_id": telegram_user,
        },
    )
    assert activated.status_code == 200, activated.text
    body = activated.json()
    assert (body["plan"], body["access_status"]) == ("sub_quarterly", "active")
    valid_until = datetime.fromisoformat(body["valid_until"])
    assert before + timedelta(days=90) <= valid_until <= after + timedelta(days=90)
    return valid_until


def test_a_third_plan_is_sold_in_each_of_its_currencies_for_90_days(shop: Server) -> None:
    with httpx.Client(base_url=shop.base_url, timeout=10.0) as client:
        form = client.get("/pay", params={"lang": "ru"})
        assert "Подписка на квартал" in form.text
        assert "1490.00 RUB за 90 дней" in form.text
        _buy(client, shop, "RUB", 777000201)
        _buy(client, shop, "XTR", 777000202)

        refused = client.post(
            "/api/payment/checkout-session",
            json={
                "mode": "subscription",
                "plan": "sub_quarterly",
                "email": "usd@example.com",
                "currency": "USD",
            },
        )
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "VALIDATION_ERROR"
        assert refused.json()["error"]["details"]["field"] == "currency"
        gone = client.post(
            "/api/payment/checkout-session",
            json={"mode": "subscription", "plan": "sub_monthly", "email": "m@example.com"},
        )
        assert gone.status_code == 400  # the file is the whole catalogue
    # The access email names the plan by the catalogue's title.
    shop.wait_for_records(
        lambda r: (
            r["logger"] == "accessgate.mail"
            and "To: xtr@example.com" in r["message"]
            and "Your access is ready: Quarterly subscription" in r["message"]
        )
    )


def _refusal(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        cli_command(args),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    assert "Uvicorn running" not in output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_broken_catalogue_stops_serve_and_worker_with_one_line(tmp_path: Path) -> None:
    plans = tmp_path / "plans.toml"
    plans.write_text(CATALOGUE.replace("RUB = 149000", "RUB = -149000"), encoding="utf-8")
    names = {name.upper() for name in Settings.__struct_fields__}
    env = {key: value for key, value in os.environ.items() if key not in names}
    env |= {"LOG_FORMAT": "text", "PLANS_FILE": str(plans)}
    expected = (
        'accessgate: configuration error: PLANS_FILE: plan "sub_quarterly": '
        'price "RUB": must be a positive integer of minor units'
    )
    assert _refusal(["serve", "--port", str(free_port())], tmp_path, env) == expected
    assert _refusal(["worker"], tmp_path, env) == expected
    plans.write_text("[[plans]\n", encoding="utf-8")
    line = _refusal(["serve", "--port", str(free_port())], tmp_path, env)
    assert line.startswith("accessgate: configuration error: PLANS_FILE: not valid TOML: ")
