"""The three status sets of seed 002 and their transition tables.

A transition that is not in its table raises :class:`IllegalTransition`; no
state is ever overwritten silently. A change to the same state is not a
transition: callers skip it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from accessgate.domain.model.errors import IllegalTransition


class PaymentStatus(StrEnum):
    """Where the money of an order stands."""

    UNPAID = "unpaid"
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"


class FulfillmentStatus(StrEnum):
    """Whether the order's goods (the activation token and email) were issued."""

    PENDING = "pending"
    FULFILLED = "fulfilled"
    FAILED = "failed"


class AccessStatus(StrEnum):
    """Where the buyer's access stands."""

    PENDING = "pending"
    TOKEN_ISSUED = "token_issued"
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


P = PaymentStatus
F = FulfillmentStatus
A = AccessStatus

PAYMENT_TRANSITIONS: Mapping[PaymentStatus, frozenset[PaymentStatus]] = {
    P.UNPAID: frozenset({P.PAID, P.FAILED}),
    # paid -> failed: a subscription renewal failed (past due).
    P.PAID: frozenset({P.FAILED, P.REFUNDED}),
    # failed -> paid: a retried or recovered payment.
    P.FAILED: frozenset({P.PAID, P.REFUNDED}),
    P.REFUNDED: frozenset(),
}

FULFILLMENT_TRANSITIONS: Mapping[FulfillmentStatus, frozenset[FulfillmentStatus]] = {
    F.PENDING: frozenset({F.FULFILLED, F.FAILED}),
    F.FAILED: frozenset({F.FULFILLED}),
    F.FULFILLED: frozenset(),
}

ACCESS_TRANSITIONS: Mapping[AccessStatus, frozenset[AccessStatus]] = {
    A.PENDING: frozenset({A.TOKEN_ISSUED, A.EXPIRED, A.REVOKED}),
    A.TOKEN_ISSUED: frozenset({A.ACTIVE, A.EXPIRED, A.REVOKED}),
    A.ACTIVE: frozenset({A.EXPIRED, A.REVOKED}),
    # expired -> token_issued/active: a lapsed subscription paid again.
    A.EXPIRED: frozenset({A.TOKEN_ISSUED, A.ACTIVE, A.REVOKED}),
    A.REVOKED: frozenset(),
}

S = TypeVar("S", bound=StrEnum)


def check_transition(table: Mapping[S, frozenset[S]], current: S, target: S) -> S:
    """Return ``target`` if the table allows ``current -> target``, else raise."""
    if target not in table[current]:
        raise IllegalTransition(
            f"{type(current).__name__} cannot change from {current} to {target}",
            current=str(current),
            target=str(target),
        )
    return target
