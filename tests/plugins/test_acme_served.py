"""A provider from a package outside accessgate, served by ``accessgate serve`` unchanged.

``tests/plugins/acme_pay`` is its own distribution (installed by ``nox -s
tests``); it registers ``acme`` in the entry-point group
``accessgate.payment_providers``. Listing it in ``PAYMENT_PROVIDERS`` is all
it takes: its settings group (``ACME_*``), its checkout, its webhook at
``/webhook/acme`` with its own signature, source-address check and plain
``YES`` answer.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from accessgate import plugins
from accessgate.adapters.system import SystemClock
from accessgate.ports.payment_providers import ProviderContext
from tests.e2e.server import running_server
from tests.services import services_required

ACME_SECRET = "acme-served-secret-0123456789"


def acme_gateway() -> object:
    """ACME's gateway as its own package builds it (to sign notifications like ACME)."""
    if "acme" not in plugins.available():
        message = "the acme plug-in is not installed: pip install -e tests/plugins/acme_pay"
        if services_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    plugin = plugins.load("acme")
    group = plugins.read_group(plugin, {"ACME_SECRET_KEY": ACME_SECRET})
    context = ProviderContext(clock=SystemClock(), public_base_url="x", webhook_url="x")
    return plugin.build(group, context)


def test_an_outside_plugin_sells_and_fulfils_through_its_own_webhook(tmp_path: Path) -> None:
    acme = acme_gateway()
    env = {"PAYMENT_PROVIDERS": "acme,sandbox", "ACME_SECRET_KEY": ACME_SECRET}
    with running_server(tmp_path, env) as server, httpx.Client(base_url=server.base_url) as http:
        started = http.post(
            "/api/payment/checkout-session",
            json={
                "mode": "one_time",
                "plan": "one_time_basic",
                "email": "buyer@example.com",
                "provider": "acme",
            },
        )
        assert started.status_code == 200, started.text
        body = started.json()
        assert body["checkout_url"].startswith("https://pay.acme.invalid/i/")
        status = http.get("/api/payment/session-status", params={"session_id": body["session_id"]})
        assert status.json()["payment_status"] == "unpaid"  # no status poll: asked nothing

        note, headers = acme.notification(  # type: ignore[attr-defined]
            event_id="acme_evt_1",
            invoice_id=body["session_id"],
            order_id=body["order_id"],
            amount=1900,
            currency="USD",
        )
        for _ in range(2):  # the second is a duplicate, acknowledged the same way
            answer = http.post("/webhook/acme", content=note, headers=headers)
            assert answer.status_code == 200, answer.text
            assert answer.text == "YES"
            assert answer.headers["content-type"].startswith("text/plain")
        forged = dict(headers, **{"x-acme-signature": "0" * 64})
        refused = http.post("/webhook/acme", content=note, headers=forged)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "INVALID_SIGNATURE"

        status = http.get("/api/payment/session-status", params={"session_id": body["session_id"]})
        assert status.json()["payment_status"] == "paid"
        assert status.json()["activation_link"]
        # The default provider is still the first listed; sandbox sells beside it.
        sandbox = http.post(
            "/api/payment/checkout-session",
            json={
                "mode": "one_time",
                "plan": "one_time_basic",
                "email": "b@example.com",
                "provider": "sandbox",
            },
        )
        assert "/sandbox/checkout/" in sandbox.json()["checkout_url"]
