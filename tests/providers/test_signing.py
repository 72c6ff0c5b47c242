"""The shared timestamped HMAC helper (Stripe's scheme, also the sandbox's and the memory gateway's)."""

from __future__ import annotations

import hashlib
import hmac

import pytest
import stripe

from accessgate.support.signing import SignatureError, TimestampedSigner, signature

BODY = b'{"id":"evt_1","type":"checkout_completed"}'
NOW = 1_772_366_400


def test_round_trip_and_the_header_shape() -> None:
    signer = TimestampedSigner([b"secret"])
    header = signer.header(BODY, NOW)
    expected = hmac.new(b"secret", b"%d." % NOW + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"
    assert signature(b"secret", NOW, BODY) == expected
    signer.verify(header, BODY, NOW)


def test_it_is_stripes_scheme() -> None:
    """A header made by the Stripe SDK verifies, and ours verifies with the SDK."""
    secret = "whsec_interop_0123456789"
    signer = TimestampedSigner([secret.encode()])
    theirs = stripe.WebhookSignature.generate_signature_header(BODY.decode(), secret, NOW)
    signer.verify(theirs, BODY, NOW)
    assert stripe.WebhookSignature.verify_header(
        BODY.decode(), signer.header(BODY, NOW), secret, tolerance=None
    )


def test_any_of_several_secrets_and_any_of_several_signatures() -> None:
    new, old = TimestampedSigner([b"new"]), TimestampedSigner([b"old"])
    both = TimestampedSigner([b"new", b"old"])
    both.verify(old.header(BODY, NOW), BODY, NOW)
    both.verify(new.header(BODY, NOW), BODY, NOW)
    stranger = signature(b"stranger", NOW, BODY)
    mine = signature(b"new", NOW, BODY)
    new.verify(f"t={NOW},v1={stranger},v1={mine}", BODY, NOW)
    new.verify(f"t={NOW},v0={stranger},v1={mine}", BODY, NOW)
    with pytest.raises(SignatureError):
        new.verify(old.header(BODY, NOW), BODY, NOW)
    assert both.header(BODY, NOW) == new.header(BODY, NOW)  # the first secret signs


def test_the_tolerance_holds_either_way() -> None:
    signer = TimestampedSigner([b"s"], tolerance_seconds=30)
    header = signer.header(BODY, NOW)
    signer.verify(header, BODY, NOW + 30)
    signer.verify(header, BODY, NOW - 30)
    for now in (NOW + 31, NOW - 31):
        with pytest.raises(SignatureError, match="tolerance"):
            signer.verify(header, BODY, now)


def test_tampered_bodies_and_times_are_refused() -> None:
    signer = TimestampedSigner([b"s"])
    header = signer.header(BODY, NOW)
    for body in (BODY + b" ", BODY[:-1], BODY.replace(b"evt_1", b"evt_2"), b""):
        with pytest.raises(SignatureError):
            signer.verify(header, body, NOW)
    moved = header.replace(f"t={NOW}", f"t={NOW + 1}")
    with pytest.raises(SignatureError):
        signer.verify(moved, BODY, NOW)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "t=,v1=abc",
        "t=abc,v1=abc",
        "t=-5,v1=abc",
        "v1=abc",
        f"t={NOW}",
        f"t={NOW},v0=abc",
        f"t={'9' * 13},v1=abc",
        f"t={NOW},v1=" + "a" * 5000,
    ],
)
def test_missing_and_malformed_headers_are_refused(header: str | None) -> None:
    with pytest.raises(SignatureError) as caught:
        TimestampedSigner([b"s"]).verify(header, BODY, NOW)
    assert "s" not in (caught.value.reason or "").split()  # never the secret


def test_it_refuses_to_be_built_unsafely() -> None:
    with pytest.raises(ValueError, match="secret"):
        TimestampedSigner([b""])
    with pytest.raises(ValueError, match="tolerance"):
        TimestampedSigner([b"s"], tolerance_seconds=0)
