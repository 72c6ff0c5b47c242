"""Stripe-Signature verification on the raw body."""

from __future__ import annotations

from datetime import timedelta

import pytest
import stripe

from accessgate.adapters.memory.clock import SettableClock
from accessgate.adapters.stripe import StripeGateway
from accessgate.domain.model.errors import InvalidSignature
from tests.stripe.conftest import make_gateway
from tests.stripe.stripe_events import (
    OLD_WEBHOOK_SECRET,
    WEBHOOK_SECRET,
    body_of,
    event,
    sign,
    ts,
)


@pytest.fixture
def gw(clock: SettableClock) -> StripeGateway:
    return make_gateway(clock, "http://127.0.0.1:9")


@pytest.fixture
def body(clock: SettableClock) -> bytes:
    return body_of(event("customer.created", {"id": "cus_1", "object": "customer"}, clock.now()))


def test_sdk_signed_delivery_verifies(gw: StripeGateway, clock: SettableClock, body: bytes) -> None:
    headers = sign(body, clock.now())
    assert gw.verify_delivery(body, headers) == []  # an unused type: verified, then ignored
    # The SDK agrees that this header is valid.
    stripe.WebhookSignature.verify_header(body, headers["Stripe-Signature"], WEBHOOK_SECRET)


def test_header_name_in_any_case(gw: StripeGateway, clock: SettableClock, body: bytes) -> None:
    value = sign(body, clock.now())["Stripe-Signature"]
    assert gw.verify_delivery(body, {"stripe-signature": value}) == []
    assert gw.verify_delivery(body, {"STRIPE-SIGNATURE": value}) == []


def test_wrong_secret(gw: StripeGateway, clock: SettableClock, body: bytes) -> None:
    with pytest.raises(InvalidSignature):
        gw.verify_delivery(body, sign(body, clock.now(), "whsec_someone_else"))


def test_stale_timestamp(gw: StripeGateway, clock: SettableClock, body: bytes) -> None:
    assert gw.verify_delivery(body, sign(body, clock.now() - timedelta(seconds=300))) == []
    with pytest.raises(InvalidSignature, match="tolerance"):
        gw.verify_delivery(body, sign(body, clock.now() - timedelta(seconds=301)))


def test_future_timestamp_beyond_tolerance(
    gw: StripeGateway, clock: SettableClock, body: bytes
) -> None:
    assert gw.verify_delivery(body, sign(body, clock.now() + timedelta(seconds=300))) == []
    with pytest.raises(InvalidSignature, match="tolerance"):
        gw.verify_delivery(body, sign(body, clock.now() + timedelta(seconds=301)))


def test_configurable_tolerance(clock: SettableClock, body: bytes) -> None:
    gw = make_gateway(clock, "http://127.0.0.1:9", tolerance_seconds=30)
    with pytest.raises(InvalidSignature):
        gw.verify_delivery(body, sign(body, clock.now() - timedelta(seconds=31)))


def test_missing_header(gw: StripeGateway, body: bytes) -> None:
    with pytest.raises(InvalidSignature, match="Missing"):
        gw.verify_delivery(body, {"Content-Type": "application/json"})
    with pytest.raises(InvalidSignature):
        gw.verify_delivery(body, {"Stripe-Signature": ""})


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "t=,v1=abc",
        "t=abc,v1=abc",
        "t=-5,v1=abc",
        "v1=abc",
        "t=1772366400",
        "t=1772366400,v0=abc",
        "t=1772366400," + "v1=" + "a" * 5000,
    ],
)
def test_malformed_header(gw: StripeGateway, body: bytes, header: str) -> None:
    with pytest.raises(InvalidSignature):
        gw.verify_delivery(body, {"Stripe-Signature": header})


def test_rotated_secrets_old_and_new_accepted(
    gw: StripeGateway, clock: SettableClock, body: bytes
) -> None:
    assert gw.verify_delivery(body, sign(body, clock.now(), WEBHOOK_SECRET)) == []
    assert gw.verify_delivery(body, sign(body, clock.now(), OLD_WEBHOOK_SECRET)) == []
    only_new = make_gateway(clock, "http://127.0.0.1:9", webhook_secrets=[WEBHOOK_SECRET])
    with pytest.raises(InvalidSignature):
        only_new.verify_delivery(body, sign(body, clock.now(), OLD_WEBHOOK_SECRET))


def test_several_v1_values_any_may_match(
    gw: StripeGateway, clock: SettableClock, body: bytes
) -> None:
    """During a rotation Stripe signs with both secrets: ``t=..,v1=<old>,v1=<new>``."""
    t = ts(clock.now())
    new = sign(body, clock.now(), WEBHOOK_SECRET)["Stripe-Signature"].split("v1=")[1]
    other = sign(body, clock.now(), "whsec_unknown")["Stripe-Signature"].split("v1=")[1]
    for header in (
        f"t={t},v1={other},v1={new}",
        f"t={t},v1={new},v1={other}",
        f"t={t},v0={other},v1={other},v1={new}",
    ):
        assert gw.verify_delivery(body, {"Stripe-Signature": header}) == []
    with pytest.raises(InvalidSignature):
        gw.verify_delivery(body, {"Stripe-Signature": f"t={t},v1={other},v1={other}"})


def test_body_changed_by_one_byte(gw: StripeGateway, clock: SettableClock, body: bytes) -> None:
    headers = sign(body, clock.now())
    for i in (0, len(body) // 2, len(body) - 1):
        changed = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]
        with pytest.raises(InvalidSignature):
            gw.verify_delivery(changed, headers)
    with pytest.raises(InvalidSignature):
        gw.verify_delivery(body + b" ", headers)


def test_timestamp_is_part_of_the_signature(
    gw: StripeGateway, clock: SettableClock, body: bytes
) -> None:
    header = sign(body, clock.now())["Stripe-Signature"]
    t = ts(clock.now())
    with pytest.raises(InvalidSignature):
        gw.verify_delivery(body, {"Stripe-Signature": header.replace(f"t={t}", f"t={t + 1}")})


def test_signed_body_that_is_not_an_event(gw: StripeGateway, clock: SettableClock) -> None:
    for bad in (b"not json", b'{"id": "evt_1"}', b"[]"):
        with pytest.raises(InvalidSignature):
            gw.verify_delivery(bad, sign(bad, clock.now()))
