"""``/pay`` and ``/pay/success``: the form, the checkout, pending until paid, ru and en."""

from __future__ import annotations

import asyncio

import httpx

from accessgate.domain.model.status import PaymentStatus
from accessgate.domain.model.values import Locale
from tests.pages.site import Site


async def test_form_in_english_by_default_and_russian_by_header_or_query(site: Site) -> None:
    english = await site.client.get("/pay")
    assert english.status_code == 200
    assert english.headers["content-type"].startswith("text/html")
    assert english.headers["cache-control"] == "no-store"
    assert "Continue to payment" in english.text
    assert "19.00 USD" in english.text
    assert "9.00 USD per month" in english.text
    russian = await site.client.get("/pay", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert "Перейти к оплате" in russian.text
    assert '<html lang="ru">' in russian.text
    chosen = await site.client.get("/pay?lang=en", headers={"Accept-Language": "ru"})
    assert "Continue to payment" in chosen.text


async def test_query_fields_are_carried_and_escaped(site: Site) -> None:
    hostile = '"><script>alert(1)</script>'
    page = await site.client.get("/pay", params={"clickid": hostile, "telegram_chat_id": "42"})
    assert "<script>alert(1)</script>" not in page.text
    assert 'name="clickid" value="&#34;&gt;&lt;script&gt;' in page.text
    assert 'name="telegram_chat_id" value="42"' in page.text


async def test_post_starts_the_checkout_and_redirects_to_the_provider(site: Site) -> None:
    response = await site.pay_form(
        email="Buyer@Example.com", plan="sub_monthly", clickid="clk-9", locale="ru"
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"{site.base_url}/sandbox/checkout/cs_sandbox_ord_")
    order = site.order(location.rsplit("/", 1)[1])
    assert (order.email, order.clickid, order.locale) == ("buyer@example.com", "clk-9", Locale.RU)
    assert order.plan == "sub_monthly"
    assert order.amount.amount == 900


async def test_page_language_becomes_the_order_locale(site: Site) -> None:
    response = await site.client.post(
        "/pay?lang=ru",
        data={"email": "a@example.com", "plan": "one_time_basic"},
        headers={"Origin": site.base_url},
    )
    assert response.status_code == 303
    assert site.order(response.headers["location"].rsplit("/", 1)[1]).locale is Locale.RU


async def test_errors_render_the_form_again(site: Site) -> None:
    bad_email = await site.pay_form(email="not-an-email", plan="one_time_basic", clickid="c")
    assert bad_email.status_code == 400
    assert "Please enter a valid email address." in bad_email.text
    assert 'value="not-an-email"' in bad_email.text
    assert 'name="clickid" value="c"' in bad_email.text
    bad_plan = await site.pay_form(email="a@example.com", plan="gold")
    assert bad_plan.status_code == 400
    assert "Please choose one of the plans." in bad_plan.text
    assert site.store.tables.orders == {}


async def test_cross_site_posts_are_refused(site: Site) -> None:
    form = {"email": "a@example.com", "plan": "one_time_basic"}
    other = await site.client.post("/pay", data=form, headers={"Origin": "https://evil.example"})
    assert other.status_code == 403
    fetch = await site.client.post("/pay", data=form, headers={"Sec-Fetch-Site": "cross-site"})
    assert fetch.status_code == 403
    null = await site.client.post("/pay", data=form, headers={"Origin": "null"})
    assert null.status_code == 403
    referer = await site.client.post(
        "/pay", data=form, headers={"Referer": f"{site.base_url}/pay?lang=en"}
    )
    assert referer.status_code == 303
    assert len(site.store.tables.orders) == 1


async def test_success_page_pending_then_paid_with_the_link(site: Site) -> None:
    started = await site.pay_form(email="a@example.com", plan="one_time_basic")
    session_id = started.headers["location"].rsplit("/", 1)[1]
    pending = await site.client.get("/pay/success", params={"session_id": session_id})
    assert pending.status_code == 200
    assert 'data-status="pending"' in pending.text
    assert '<meta http-equiv="refresh"' in pending.text
    paid = await site.client.post(
        f"/sandbox/checkout/{session_id}/pay", headers={"Origin": site.base_url}
    )
    assert paid.status_code == 303
    page = await _wait_for(site, session_id, 'data-status="paid"')
    assert "Activate access" in page.text
    assert "/activate?token=" in page.text
    assert '<meta http-equiv="refresh"' not in page.text
    assert page.headers["referrer-policy"] == "same-origin"


async def test_success_page_shows_open_in_telegram_with_a_bot() -> None:
    from tests.pages.site import running_site

    async with running_site(telegram_bot_username="gate_bot") as site:
        started = await site.pay_form(email="a@example.com", plan="one_time_basic")
        session_id = started.headers["location"].rsplit("/", 1)[1]
        await site.client.post(
            f"/sandbox/checkout/{session_id}/pay", headers={"Origin": site.base_url}
        )
        page = await _wait_for(site, session_id, 'data-status="paid"', lang="ru")
        assert "Открыть в Telegram" in page.text
        assert 'href="https://t.me/gate_bot?start=' in page.text


async def test_unknown_session_is_a_404_page(site: Site) -> None:
    response = await site.client.get("/pay/success", params={"session_id": "cs_sandbox_nope"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    missing = await site.client.get("/pay/success")
    assert missing.status_code == 404


async def test_the_signed_return_link_of_an_order_shows_its_success_page(site: Site) -> None:
    # Providers whose return URL cannot carry their session id (YooKassa) send the
    # buyer back to /pay/success?order=<id>&sig=<HMAC>; the page trusts only a genuine pair.
    started = await site.pay_form(email="a@example.com", plan="one_time_basic")
    session_id = started.headers["location"].rsplit("/", 1)[1]
    order = site.order(session_id)
    await site.client.post(f"/sandbox/checkout/{session_id}/pay", headers={"Origin": site.base_url})
    await _wait_for(site, session_id, 'data-status="paid"')
    link = site.core.return_links().url(order.id)
    assert link.startswith(f"{site.base_url}/pay/success?order={order.id}&sig=")
    page = await site.client.get(link.removeprefix(site.base_url))
    assert page.status_code == 200
    assert 'data-status="paid"' in page.text
    assert "/activate?token=" in page.text  # the activation link, as with the session id
    forged = await site.client.get("/pay/success", params={"order": order.id, "sig": "0" * 64})
    assert forged.status_code == 404
    unsigned = await site.client.get("/pay/success", params={"order": order.id})
    assert unsigned.status_code == 404
    assert "/activate?token=" not in forged.text + unsigned.text


async def test_pages_are_not_in_the_openapi_schema(site: Site) -> None:
    schema = (await site.client.get("/schema/openapi.json")).json()
    paths = set(schema["paths"])
    assert not {p for p in paths if p.startswith(("/pay", "/sandbox", "/activate"))}


async def _wait_for(site: Site, session_id: str, needle: str, lang: str = "en") -> httpx.Response:
    for _ in range(100):
        page = await site.client.get(
            "/pay/success", params={"session_id": session_id, "lang": lang}
        )
        if needle in page.text:
            return page
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"{needle} never appeared; order is {site.order(session_id).payment_status}"
    )


__all__ = ["PaymentStatus"]
