"""The customer-portal email in both languages."""

from __future__ import annotations

import pytest

from accessgate.adapters.smtp.renderer import TemplateRenderer

LINK = "https://billing.stripe.com/p/session/test_abc?x=1&y=2"


@pytest.mark.parametrize(
    ("locale", "subject", "plan"),
    [
        ("en", "Manage your subscription", "Monthly subscription"),
        ("ru", "Управление подпиской", "Ежемесячная подписка"),
    ],
)
def test_the_portal_email_carries_the_link_in_the_orders_language(
    locale: str, subject: str, plan: str
) -> None:
    email = TemplateRenderer().render(
        "customer_portal", locale, {"portal_link": LINK, "plan": "sub_monthly"}
    )
    assert email.locale == locale
    assert email.subject == subject
    assert LINK in email.text
    assert plan in email.text
    assert 'href="https://billing.stripe.com/p/session/test_abc?x=1&amp;y=2"' in email.html
