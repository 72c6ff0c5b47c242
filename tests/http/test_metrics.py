"""GET /metrics: seed 000's names, HTTP by route template, storage gauges, never rate limited."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families

from accessgate.domain.model.status import PaymentStatus
from tests.pages.site import Site, running_site

from .helpers import client_for, make_settings, paid_order


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def _sandbox_purchase(site: Site) -> str:
    """Buy through the sandbox pages; returns the checkout session id once paid."""
    form = await site.pay_form(email="buyer@example.com", plan="one_time_basic", locale="en")
    assert form.status_code == 303, form.text
    session_id = form.headers["location"].rsplit("/", 1)[1]
    paid = await site.client.post(
        f"/sandbox/checkout/{session_id}/pay", headers={"Origin": site.base_url}
    )
    assert paid.status_code == 303
    return session_id


async def _scrape_until_fulfilled(site: Site, session_id: str) -> str:
    """Once the sandbox's webhook (posted in the background) paid, scrape until it was counted.

    No scrape before the payment: the storage gauges are cached for a few seconds.
    """
    for _ in range(200):
        if site.order(session_id).payment_status is PaymentStatus.PAID:
            break
        await asyncio.sleep(0.05)
    for _ in range(200):
        text = (await site.client.get("/metrics")).text
        if 'outcome="fulfilled"' in text:
            return text
        await asyncio.sleep(0.05)
    raise AssertionError("the sandbox webhook was never counted")


async def test_a_sandbox_purchase_shows_in_the_metrics() -> None:
    async with running_site() as site:
        session_id = await _sandbox_purchase(site)
        text = await _scrape_until_fulfilled(site, session_id)
        found = samples(text)
        sandbox = (("outcome", "fulfilled"), ("provider", "sandbox"))
        assert found[("payment_transactions_total", sandbox)] == 1
        webhook = (("method", "POST"), ("route", "/webhook/{provider}"), ("status", "200"))
        assert found[("http_requests_total", webhook)] == 1
        assert ("http_request_duration_seconds_count", webhook[:2]) in found
        assert found[("active_subscriptions", ())] == 1
        assert found[("outbox_backlog", (("channel", "email"),))] == 1  # the access email
        assert found[("outbox_failed", (("channel", "email"),))] == 0
        assert session_id not in text  # route templates, never raw paths


async def test_the_bot_metrics_start_at_zero_and_the_content_type_is_prometheus() -> None:
    async with client_for() as (client, _):
        response = await client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        found = samples(response.text)
        for update_type in ("message", "callback_query"):
            labels = (("update_type", update_type),)
            assert found[("bot_requests_total", labels)] == 0
            assert found[("bot_errors_total", labels)] == 0
            assert found[("bot_request_duration_seconds_count", labels)] == 0
        assert "# TYPE payment_transactions_total counter" in response.text
        assert found[("active_subscriptions", ())] == 0


async def test_outcomes_are_counted_per_event_and_unrouted_requests_carry_no_path() -> None:
    async with client_for() as (client, core):
        await paid_order(client, core)
        gateway = core.gateway()
        session_id = next(iter(core.uow().store.tables.orders.values())).provider_session_id
        delivery = gateway.webhook(gateway.completion(session_id))
        again = await client.post(
            f"/webhook/{gateway.name}", content=delivery.body, headers=delivery.headers
        )
        assert again.status_code == 200
        missing = await client.get("/activate/secret-token-in-a-path/nothing")
        assert missing.status_code == 404
        text = (await client.get("/metrics")).text
        found = samples(text)
        provider = gateway.name
        fulfilled = (("outcome", "fulfilled"), ("provider", provider))
        assert found[("payment_transactions_total", fulfilled)] == 1
        assert (
            sum(
                value
                for (name, labels), value in found.items()
                if name == "payment_transactions_total" and ("outcome", "fulfilled") not in labels
            )
            == 1
        )  # the redelivery, counted under its own outcome
        unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
        assert found[("http_requests_total", unmatched)] == 1
        assert "secret-token-in-a-path" not in text
        assert session_id not in text


async def test_metrics_are_never_rate_limited_and_not_in_the_schema() -> None:
    settings = make_settings(rate_limit_enabled=True, rate_limit_requests=2)
    async with client_for(settings) as (client, _):
        for _ in range(5):
            assert (await client.get("/metrics")).status_code == 200
        schema = (await client.get("/schema/openapi.json")).json()
        assert "/metrics" not in schema["paths"]
        assert "/health" in schema["paths"]


async def test_metrics_can_be_turned_off() -> None:
    async with client_for(make_settings(metrics_enabled=False)) as (client, _):
        assert (await client.get("/metrics")).status_code == 404
        assert (await client.get("/health")).status_code == 200


async def test_two_apps_in_one_process_keep_their_own_counters() -> None:
    async with client_for() as (first, core), client_for() as (second, _):
        await paid_order(first, core)
        assert 'outcome="fulfilled"' in (await first.get("/metrics")).text
        assert 'outcome="fulfilled"' not in (await second.get("/metrics")).text


async def test_a_request_refused_before_its_handler_is_counted_with_its_own_status() -> None:
    # The control-character check refuses the request inside the metrics layer; the
    # answer is made outside it, and the count must still say 400, not 500.
    async with client_for() as (client, _):
        refused = await client.get("/api/payment/session-status?session_id=cs_%00")
        assert refused.status_code == 400
        found = samples((await client.get("/metrics")).text)
        route = (("method", "GET"), ("route", "/api/payment/session-status"))
        assert found.get(("http_requests_total", (*route, ("status", "400")))) == 1
        assert ("http_requests_total", (*route, ("status", "500"))) not in found
