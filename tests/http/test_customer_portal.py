"""The customer portal: emailed by default, answered directly only where ownership is proven."""

from __future__ import annotations

from typing import Any

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.memory.payment_gateway import MemoryPaymentGateway
from accessgate.domain.model.outbox import EmailTemplate, OutboxStatus

from .helpers import INTERNAL_TOKEN, assert_envelope, checkout, client_for, make_settings, pay

AUTH = {"X-Internal-Token": INTERNAL_TOKEN}
PORTAL = "/api/payment/customer-portal"
SUBSCRIBER = "buyer@example.com"
STRANGER = "stranger@example.com"
VOLATILE_HEADERS = {"x-request-id", "date"}


class PortallessGateway(MemoryPaymentGateway):
    """A provider without a customer portal (the capability is not implemented)."""

    async def customer_portal_url(self, customer_id: str, return_url: str) -> str:
        raise NotImplementedError


def stable_headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in VOLATILE_HEADERS}


async def subscribe(client: Any, core: Any, locale: str = "ru") -> str:
    started = await checkout(client, mode="subscription", plan="sub_monthly", locale=locale)
    await pay(client, core, started["session_id"])
    await core.deliver_outbox().execute()  # the access email
    return str(started["order_id"])


def portal_emails(core: Any) -> list[Any]:
    return [m for m in core.mailer().sent if m.template is EmailTemplate.CUSTOMER_PORTAL]


async def test_by_default_the_link_is_emailed_and_the_answer_is_the_same_for_any_address() -> None:
    """Issue 12 items 2 and 3: no portal URL to a stranger, no 200-or-404 oracle."""
    async with client_for() as (client, core):
        await subscribe(client, core, locale="ru")

        def outbox_rows() -> int:
            return len(core.uow().store.tables.outbox)

        before = outbox_rows()
        known = await client.post(PORTAL, json={"email": SUBSCRIBER})
        assert outbox_rows() == before + 1
        unknown = await client.post(PORTAL, json={"email": STRANGER})
        assert outbox_rows() == before + 2  # the same single write for an unknown address
        assert known.status_code == unknown.status_code == 200
        assert known.content == unknown.content == b'{"status":"portal_link_sent"}'
        assert stable_headers(known) == stable_headers(unknown)
        assert "portal" not in known.text.replace("portal_link_sent", "")

        report = await core.deliver_outbox().execute()
        assert (report.delivered, report.discarded) == (1, 1)
        [email] = portal_emails(core)
        assert email.to == SUBSCRIBER
        assert email.locale == "ru"
        assert (
            email.context["portal_link"]
            == f"https://checkout.invalid/session/portal/cus_memory_{SUBSCRIBER}"
        )
        assert "customer_id" not in email.context


async def test_asking_again_soon_sends_no_second_email() -> None:
    async with client_for() as (client, core):
        await subscribe(client, core)
        for _ in range(3):
            response = await client.post(PORTAL, json={"email": SUBSCRIBER.upper()})
            assert response.status_code == 200
        await core.deliver_outbox().execute()
        assert len(portal_emails(core)) == 1


async def test_a_provider_without_a_portal_answers_the_same_and_sends_nothing() -> None:
    clock = SettableClock()
    gateway = PortallessGateway(secret=b"memory-webhook-secret", clock=clock)
    async with client_for(clock=clock, gateway=gateway) as (client, core):
        await subscribe(client, core)
        response = await client.post(PORTAL, json={"email": SUBSCRIBER})
        assert response.status_code == 200
        assert response.json() == {"status": "portal_link_sent"}
        await core.deliver_outbox().execute()
        assert portal_emails(core) == []
        statuses = {m.status for m in core.uow().store.tables.outbox.values()}
        assert OutboxStatus.FAILED not in statuses
    settings = make_settings(customer_portal_mode="direct")
    gateway = PortallessGateway(secret=b"memory-webhook-secret", clock=clock)
    async with client_for(settings, clock=clock, gateway=gateway) as (client, core):
        await subscribe(client, core)
        response = await client.post(PORTAL, json={"email": SUBSCRIBER})
        error = assert_envelope(response, 400, "CAPABILITY_NOT_SUPPORTED")
        assert "no customer portal" in error["message"]


async def test_direct_mode_keeps_the_seed_answer() -> None:
    async with client_for(make_settings(customer_portal_mode="direct")) as (client, core):
        await subscribe(client, core)
        response = await client.post(PORTAL, json={"email": SUBSCRIBER})
        assert response.status_code == 200
        assert set(response.json()) == {"portal_url"}
        response = await client.post(PORTAL, json={"email": STRANGER})
        assert_envelope(response, 404, "USER_NOT_FOUND")


async def test_the_bot_gets_the_portal_of_the_account_that_holds_the_access() -> None:
    async with client_for() as (client, core):
        await subscribe(client, core)
        token = core.codec().activation_token(
            next(iter(core.uow().store.tables.tokens.values())).seed
        )
        activated = await client.post(
            "/api/bot/access/activate",
            json={"activation_token": token, "telegram_user_id": 4242},
            headers=AUTH,
        )
        assert activated.status_code == 200, activated.text
        response = await client.post(
            "/api/bot/customer-portal", json={"telegram_user_id": 4242}, headers=AUTH
        )
        assert response.status_code == 200
        assert response.json() == {
            "portal_url": f"https://checkout.invalid/session/portal/cus_memory_{SUBSCRIBER}"
        }
        response = await client.post(
            "/api/bot/customer-portal", json={"telegram_user_id": 4243}, headers=AUTH
        )
        assert_envelope(response, 404, "USER_NOT_FOUND")
        response = await client.post("/api/bot/customer-portal", json={"telegram_user_id": 4242})
        assert_envelope(response, 401, "UNAUTHORIZED")
