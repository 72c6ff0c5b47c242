"""SmtpMailer against a real aiosmtpd server on 127.0.0.1: plain, STARTTLS, implicit TLS, AUTH."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from accessgate.adapters.smtp.mailer import SmtpMailer
from accessgate.adapters.smtp.renderer import TemplateRenderer
from accessgate.domain.model.errors import DeliveryFailed
from accessgate.domain.model.outbox import EmailTemplate
from accessgate.domain.model.values import Locale
from accessgate.ports.mailer import EmailMessage
from tests.mail.smtp_server import (
    HOST,
    PASSWORD,
    USERNAME,
    CountingHandler,
    authenticator,
    black_hole,
    free_port,
    make_tls,
    parts,
    smtp_server,
)

PLAIN_AUTH = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
SENDER = "Shop <shop@example.com>"
LINK = "https://t.me/shop_bot?start=TOKEN_abc-123"
CODE = "493817"


def access(locale: Locale = Locale.EN, **context: str) -> EmailMessage:
    values = {"activation_link": LINK, "plan": "one_time_basic", "order_id": "ord_000001"}
    return EmailMessage(
        message_id="msg_000042",
        to="buyer@example.org",
        template=EmailTemplate.ACCESS,
        locale=locale,
        context=values | context,
    )


def restore(locale: Locale = Locale.RU) -> EmailMessage:
    return EmailMessage(
        message_id="msg_000043",
        to="buyer@example.org",
        template=EmailTemplate.RESTORE_CODE,
        locale=locale,
        context={"code": CODE, "ttl_minutes": "10"},
    )


def mailer(port: int, **options: Any) -> SmtpMailer:
    options.setdefault("starttls", False)
    return SmtpMailer(
        renderer=TemplateRenderer(), sender=SENDER, host=HOST, port=port, timeout=5, **options
    )


async def test_plain_smtp_delivers_text_and_html_alternatives() -> None:
    handler = CountingHandler()
    with smtp_server(handler) as server:
        await mailer(server.port).send(access())
    [delivered] = handler.messages
    assert delivered.mail_from == "shop@example.com"
    assert delivered.rcpt_tos == ["buyer@example.org"]
    message = delivered.message
    assert message["Subject"] == "Your access is ready: Lifetime access"
    assert message["From"] == SENDER
    assert message["To"] == "buyer@example.org"
    assert message["Content-Language"] == "en"
    assert message["Message-ID"] == "<accessgate.msg_000042@example.com>"
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    assert LINK in text
    assert f'<a href="{LINK}"' in html
    assert "Lifetime access" in text
    assert '<html lang="en">' in html


async def test_restore_code_in_russian_is_delivered_with_code_and_lifetime() -> None:
    handler = CountingHandler()
    with smtp_server(handler) as server:
        await mailer(server.port).send(restore(Locale.RU))
    message = handler.messages[0].message
    assert message["Subject"] == "Код для восстановления доступа"
    assert message["Content-Language"] == "ru"
    text, html = parts(message)
    for body in (text, html):
        assert CODE in body
        assert "10 мин." in body
        assert "Если вы не запрашивали код" in body


async def test_a_hostile_context_value_is_escaped_in_the_delivered_html() -> None:
    handler = CountingHandler()
    hostile = '<script>alert("pwn")</script>'
    with smtp_server(handler) as server:
        await mailer(server.port).send(access(order_id=hostile))
    text, html = parts(handler.messages[0].message)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;pwn&#34;)&lt;/script&gt;" in html
    assert hostile in text


async def test_starttls_with_a_self_signed_certificate_and_auth_login() -> None:
    tls = make_tls()
    handler = CountingHandler()
    with smtp_server(
        handler,
        tls_context=tls.server,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    ) as server:
        sender = mailer(
            server.port,
            starttls=True,
            username=USERNAME,
            password=PASSWORD,
            tls_context=tls.client,
        )
        await sender.send(access(Locale.RU))
    assert handler.count == 1
    assert handler.messages[0].message["Subject"].startswith("Ваш доступ готов")


async def test_starttls_refuses_a_certificate_it_does_not_trust() -> None:
    tls = make_tls()
    handler = CountingHandler()
    with (
        smtp_server(handler, tls_context=tls.server, require_starttls=True) as server,
        pytest.raises(DeliveryFailed) as caught,
    ):
        await mailer(server.port, starttls=True).send(access())
    assert caught.value.retryable
    assert "SSLCertVerificationError" in caught.value.reason
    assert handler.count == 0


async def test_starttls_required_but_not_offered_is_not_downgraded() -> None:
    handler = CountingHandler()
    with smtp_server(handler) as server, pytest.raises(DeliveryFailed) as caught:
        await mailer(server.port, starttls=True).send(access())
    assert caught.value.retryable
    assert "STARTTLS" in caught.value.reason
    assert handler.count == 0


async def test_implicit_tls() -> None:
    tls = make_tls()
    handler = CountingHandler()
    with smtp_server(handler, ssl_context=tls.server) as server:
        await mailer(server.port, use_tls=True, tls_context=tls.client).send(restore())
    assert handler.count == 1


@PLAIN_AUTH
@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
async def test_auth_on_plain_smtp(mechanism: str) -> None:
    other = "PLAIN" if mechanism == "LOGIN" else "LOGIN"
    handler = CountingHandler()
    with smtp_server(
        handler,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
        auth_exclude_mechanism=[other],
    ) as server:
        await mailer(server.port, username=USERNAME, password=PASSWORD).send(access())
    assert handler.count == 1


@PLAIN_AUTH
async def test_wrong_password_is_retryable_and_never_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    handler = CountingHandler()
    wrong = "wrong-secret-password-987"
    with (
        smtp_server(
            handler, authenticator=authenticator, auth_required=True, auth_require_tls=False
        ) as server,
        pytest.raises(DeliveryFailed) as caught,
    ):
        await mailer(server.port, username=USERNAME, password=wrong).send(restore())
    assert caught.value.retryable
    assert "535" in caught.value.reason
    shown = f"{caught.value!r} {caught.value.reason} {caplog.text}"
    assert wrong not in shown
    assert CODE not in shown
    assert caught.value.__cause__ is None
    assert handler.count == 0


async def test_recipient_refused_with_5xx_is_permanent() -> None:
    handler = CountingHandler(refuse={"buyer@example.org": "550 5.1.1 No such user"})
    with smtp_server(handler) as server, pytest.raises(DeliveryFailed) as caught:
        await mailer(server.port).send(access())
    assert not caught.value.retryable
    assert "550" in caught.value.reason


async def test_recipient_deferred_with_4xx_is_retryable() -> None:
    handler = CountingHandler(refuse={"buyer@example.org": "450 4.2.1 Mailbox busy, try later"})
    with smtp_server(handler) as server, pytest.raises(DeliveryFailed) as caught:
        await mailer(server.port).send(access())
    assert caught.value.retryable
    assert "450" in caught.value.reason


async def test_server_down_is_retryable() -> None:
    with pytest.raises(DeliveryFailed) as caught:
        await mailer(free_port()).send(restore())
    assert caught.value.retryable
    assert CODE not in caught.value.reason


async def test_a_silent_server_times_out_and_is_retryable() -> None:
    async with black_hole() as (port, _):
        sender = SmtpMailer(
            renderer=TemplateRenderer(), sender=SENDER, host=HOST, port=port, timeout=0.3
        )
        with pytest.raises(DeliveryFailed) as caught:
            await sender.send(access())
    assert caught.value.retryable
    assert "timeout" in caught.value.reason


async def test_logs_name_the_message_but_never_the_code_or_link(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    handler = CountingHandler()
    with smtp_server(handler) as server:
        await mailer(server.port).send(restore())
        await mailer(server.port).send(access())
    mail_logs = " ".join(r.getMessage() for r in caplog.records if r.name == "accessgate.mail")
    assert "msg_000043" in mail_logs
    assert CODE not in mail_logs
    assert LINK not in mail_logs


def test_gmail_defaults_and_no_password_in_repr() -> None:
    sender = SmtpMailer(
        renderer=TemplateRenderer(), sender=USERNAME, username=USERNAME, password=PASSWORD
    )
    assert repr(sender) == "SmtpMailer(host='smtp.gmail.com', port=587)"
    with pytest.raises(ValueError, match="sender"):
        SmtpMailer(renderer=TemplateRenderer(), sender="")
