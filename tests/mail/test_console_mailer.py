"""The console mailer: the whole email, code and link included, in the log."""

from __future__ import annotations

import logging

import pytest

from accessgate.adapters.console.mailer import ConsoleMailer
from accessgate.adapters.smtp.renderer import TemplateRenderer
from accessgate.domain.model.outbox import EmailTemplate
from accessgate.domain.model.values import Locale
from accessgate.ports.mailer import EmailMessage


def restore(n: int = 1, locale: Locale = Locale.EN) -> EmailMessage:
    return EmailMessage(
        message_id=f"msg_{n:06d}",
        to="buyer@example.org",
        template=EmailTemplate.RESTORE_CODE,
        locale=locale,
        context={"code": "493817", "ttl_minutes": "10"},
    )


async def test_the_email_with_its_code_goes_to_the_mail_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="accessgate.mail")
    mailer = ConsoleMailer(TemplateRenderer())
    await mailer.send(restore())
    [record] = [r for r in caplog.records if r.name == "accessgate.mail"]
    assert record.levelno == logging.INFO
    text = record.getMessage()
    assert "To: buyer@example.org" in text
    assert "Subject: Your access restore code" in text
    assert "493817" in text
    assert "valid for 10 minutes" in text
    [sent] = mailer.sent
    assert sent.message.message_id == "msg_000001"
    assert "493817" in sent.rendered.text


async def test_the_access_email_shows_the_link_in_the_chosen_language(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="accessgate.mail")
    link = "https://t.me/shop_bot?start=TOKEN"
    mailer = ConsoleMailer(TemplateRenderer(), logging.getLogger("accessgate.mail"))
    await mailer.send(
        EmailMessage(
            message_id="msg_1",
            to="b@example.org",
            template=EmailTemplate.ACCESS,
            locale=Locale.RU,
            context={"activation_link": link, "plan": "sub_monthly", "order_id": "ord_1"},
        )
    )
    assert link in caplog.text
    assert "Ваш доступ готов: Ежемесячная подписка" in caplog.text


async def test_sent_keeps_only_the_last_emails() -> None:
    mailer = ConsoleMailer(TemplateRenderer(), keep=3)
    for n in range(1, 8):
        await mailer.send(restore(n))
    assert [s.message.message_id for s in mailer.sent] == ["msg_000005", "msg_000006", "msg_000007"]
