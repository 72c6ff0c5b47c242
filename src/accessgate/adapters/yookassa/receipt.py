"""The 54-FZ receipt sent with a payment, when the shop configures one.

YooKassa forms the fiscal receipt from ``receipt``: the buyer's email and one
item (the plan) at the payment's amount, with the VAT code, payment mode and
payment subject of the shop's settings (``YOOKASSA_RECEIPT_*``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accessgate.ports.payment_gateway import CheckoutRequest

MAX_ITEM_DESCRIPTION = 128


@dataclass(frozen=True, kw_only=True)
class ReceiptPolicy:
    """What every receipt says besides the buyer and the plan.

    Attributes:
        vat_code: YooKassa's VAT code (1 no VAT ... 6, and the newer codes).
        payment_mode: ``full_payment``, ``full_prepayment``...
        payment_subject: ``service``, ``commodity``...
        tax_system_code: the shop's tax system (1-6), when it must be named.

    """

    vat_code: int
    payment_mode: str = "full_payment"
    payment_subject: str = "service"
    tax_system_code: int | None = None

    def receipt(self, request: CheckoutRequest, amount: dict[str, str]) -> dict[str, Any]:
        """The ``receipt`` object of the payment of ``request`` (``amount`` as sent)."""
        receipt: dict[str, Any] = {
            "customer": {"email": request.email},
            "items": [
                {
                    "description": request.plan.title(request.locale)[:MAX_ITEM_DESCRIPTION],
                    "quantity": "1.00",
                    "amount": dict(amount),
                    "vat_code": self.vat_code,
                    "payment_mode": self.payment_mode,
                    "payment_subject": self.payment_subject,
                }
            ],
        }
        if self.tax_system_code is not None:
            receipt["tax_system_code"] = self.tax_system_code
        return receipt
