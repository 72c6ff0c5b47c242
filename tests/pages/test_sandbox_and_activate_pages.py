"""The sandbox checkout page (Pay, Decline, escaping) and the ``/activate`` page."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway
from accessgate.domain.model.status import AccessStatus, PaymentStatus
from tests.pages.site import Site, running_site


async def _checkout(site: Site, email: str = "a@example.com") -> str:
    response = await site.pay_form(email=email, plan="one_time_basic", locale="ru")
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


async def _settled(site: Site, session_id: str) -> PaymentStatus:
    for _ in range(100):
        status = site.order(session_id).payment_status
        if status is not PaymentStatus.UNPAID:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError("the sandbox webhook never arrived")


async def test_checkout_page_shows_the_order_escaped_in_its_locale(site: Site) -> None:
    session_id = await _checkout(site, email="<b>x</b>@example.com")
    page = await site.client.get(f"/sandbox/checkout/{session_id}")
    assert page.status_code == 200
    assert "Тестовая оплата" in page.text
    assert "&lt;b&gt;x&lt;/b&gt;@example.com" in page.text
    assert "<b>x</b>" not in page.text
    assert f'action="/sandbox/checkout/{session_id}/pay"' in page.text
    assert f'action="/sandbox/checkout/{session_id}/decline"' in page.text
    english = await site.client.get(f"/sandbox/checkout/{session_id}?lang=en")
    assert "Sandbox checkout" in english.text


async def test_pay_posts_a_signed_webhook_and_fulfils(site: Site) -> None:
    session_id = await _checkout(site)
    response = await site.client.post(
        f"/sandbox/checkout/{session_id}/pay", headers={"Origin": site.base_url}
    )
    assert response.status_code == 303
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["session_id"] == [session_id]
    assert await _settled(site, session_id) is PaymentStatus.PAID
    records = list(site.store.tables.payment_events.values())
    assert [(r.provider, r.kind.value) for r in records] == [("sandbox", "checkout_completed")]
    again = await site.client.get(f"/sandbox/checkout/{session_id}")
    assert "Этот заказ уже обработан." in again.text
    assert '/pay"' not in again.text


async def test_decline_fails_the_payment(site: Site) -> None:
    session_id = await _checkout(site)
    # Provider timestamps are whole seconds; ApplySubscriptionEvent reports a
    # payment_failed older than the access record (made at checkout) as STALE,
    # so a decline within the checkout's own second would be ignored (reported).
    await asyncio.sleep(1.05)
    response = await site.client.post(
        f"/sandbox/checkout/{session_id}/decline", headers={"Origin": site.base_url}
    )
    assert response.status_code == 303
    assert await _settled(site, session_id) is PaymentStatus.FAILED
    page = await site.client.get(response.headers["location"])
    assert 'data-status="failed"' in page.text


async def test_unknown_outcome_session_or_cross_site_post_does_nothing(site: Site) -> None:
    session_id = await _checkout(site)
    refund = await site.client.post(f"/sandbox/checkout/{session_id}/refund")
    assert refund.status_code == 404
    unknown = await site.client.post("/sandbox/checkout/cs_sandbox_nope/pay")
    assert unknown.status_code == 404
    forged = await site.client.post(
        f"/sandbox/checkout/{session_id}/pay", headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403
    read = await site.client.get(f"/sandbox/checkout/{session_id}/pay")
    assert read.status_code in (404, 405)
    await asyncio.sleep(0.2)
    assert site.order(session_id).payment_status is PaymentStatus.UNPAID


async def test_sandbox_pages_are_404_with_another_provider() -> None:
    gateway = MemoryPaymentGateway(secret=b"s", clock=SettableClock(), name="memory")
    async with running_site(gateway=gateway) as site:
        session_id = await _checkout(site)
        assert (await site.client.get(f"/sandbox/checkout/{session_id}")).status_code == 404
        assert (await site.client.post(f"/sandbox/checkout/{session_id}/pay")).status_code == 404


async def test_portal_page(site: Site) -> None:
    page = await site.client.get("/sandbox/portal", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "Sandbox customer portal" in page.text


async def _paid_token(site: Site) -> str:
    session_id = await _checkout(site)
    await site.client.post(f"/sandbox/checkout/{session_id}/pay", headers={"Origin": site.base_url})
    await _settled(site, session_id)
    for _ in range(100):
        status = await site.client.get(
            "/api/payment/session-status", params={"session_id": session_id}
        )
        link = status.json().get("activation_link")
        if link:
            return str(parse_qs(urlsplit(link).query)["token"][0])
        await asyncio.sleep(0.05)
    raise AssertionError("no activation link")


async def test_activate_page_get_changes_nothing_and_post_activates(site: Site) -> None:
    token = await _paid_token(site)
    form = await site.client.get("/activate", params={"token": token, "lang": "en"})
    assert form.status_code == 200
    assert f'name="token" value="{token}"' in form.text
    assert "/start" in form.text
    assert [a.status for a in site.store.tables.accesses.values()] == [AccessStatus.TOKEN_ISSUED]
    wrong = await site.client.post(
        "/activate?lang=en",
        data={"token": token, "telegram_user_id": "-5"},
        headers={"Origin": site.base_url},
    )
    assert wrong.status_code == 400
    assert "positive number" in wrong.text
    done = await site.client.post(
        "/activate?lang=en",
        data={"token": token, "telegram_user_id": "4242"},
        headers={"Origin": site.base_url},
    )
    assert done.status_code == 200
    assert 'data-status="active"' in done.text
    other = await site.client.post(
        "/activate",
        data={"token": token, "telegram_user_id": "5151"},
        headers={"Origin": site.base_url, "Accept-Language": "ru"},
    )
    assert other.status_code == 400
    assert "уже использована другим аккаунтом" in other.text


async def test_activate_page_without_or_with_a_bad_token(site: Site) -> None:
    missing = await site.client.get("/activate")
    assert missing.status_code == 400
    bad = await site.client.post(
        "/activate?lang=en", data={"token": "nope", "telegram_user_id": "1"}
    )
    assert bad.status_code == 400
    assert "not valid" in bad.text
    forged = await site.client.post(
        "/activate", data={"token": "nope", "telegram_user_id": "1"}, headers={"Origin": "http://x"}
    )
    assert forged.status_code == 403
