"""The Mailer over SMTP (aiosmtplib): Gmail by default, any SMTP server by settings."""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, getaddresses

import aiosmtplib

from accessgate.adapters.smtp.errors import classify
from accessgate.adapters.smtp.renderer import RenderedEmail, TemplateError, TemplateRenderer
from accessgate.domain.model.errors import DeliveryFailed
from accessgate.ports.mailer import EmailMessage

GMAIL_HOST = "smtp.gmail.com"
GMAIL_PORT = 587
IMPLICIT_TLS_PORT = 465
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")

logger = logging.getLogger("accessgate.mail")


def build_mime(
    message: EmailMessage, rendered: RenderedEmail, *, sender: str, now: datetime | None = None
) -> MimeMessage:
    """The MIME email: plain text with an HTML alternative.

    The Message-ID is derived from the outbox message id, so a retried send
    carries the same id and mail clients can drop a duplicate.
    """
    mime = MimeMessage()
    mime["Subject"] = rendered.subject
    mime["From"] = sender
    mime["To"] = message.to
    mime["Date"] = format_datetime(now or datetime.now(UTC))
    mime["Message-ID"] = message_id_of(message.message_id, sender)
    mime["Auto-Submitted"] = "auto-generated"
    mime.set_content(rendered.text)
    mime.add_alternative(rendered.html, subtype="html")
    # After the body: set_content drops every Content-* header set before it.
    mime["Content-Language"] = rendered.locale
    return mime


def message_id_of(outbox_id: str, sender: str) -> str:
    """``<accessgate.<outbox id>@<sender's domain>>``."""
    addresses = getaddresses([sender])
    address = addresses[0][1] if addresses else ""
    domain = address.rpartition("@")[2] or "accessgate.invalid"
    return f"<accessgate.{_ID_UNSAFE.sub('_', outbox_id)}@{_ID_UNSAFE.sub('_', domain)}>"


class SmtpMailer:
    """Sends the rendered emails through an SMTP server, one connection per email.

    Args:
        renderer: renders the templates.
        sender: the ``From`` address (``"Shop <shop@example.com>"`` or a bare
            address); Gmail accepts only the account itself or a verified alias.
        host: the SMTP server; Gmail by default.
        port: 587 (STARTTLS) by default; 465 means implicit TLS.
        username: the login, or ``None`` for a server without authentication.
        password: the password (for Gmail an app password); never logged.
        starttls: upgrade the connection with STARTTLS, and fail if the server
            does not offer it (ignored with implicit TLS).
        use_tls: implicit TLS from the first byte; ``None`` means "when port is 465".
        timeout: seconds allowed for the connection and for each SMTP command.
        tls_context: the TLS settings (for example a private CA); default: the
            system's trusted CAs with hostname checks.
        validate_certs: check the server's certificate (keep it on in production).
        max_connections: how many emails are sent at the same time.

    Errors: every failure is raised as :class:`DeliveryFailed` (see
    :mod:`accessgate.adapters.smtp.errors` for which ones are retryable).

    """

    def __init__(
        self,
        *,
        renderer: TemplateRenderer,
        sender: str,
        host: str = GMAIL_HOST,
        port: int = GMAIL_PORT,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        use_tls: bool | None = None,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
        validate_certs: bool = True,
        max_connections: int = 4,
    ) -> None:
        if not sender or not getaddresses([sender])[0][1]:
            raise ValueError("the sender address is required")
        if timeout <= 0 or max_connections < 1:
            raise ValueError("timeout and max_connections must be positive")
        implicit = port == IMPLICIT_TLS_PORT if use_tls is None else use_tls
        self._renderer = renderer
        self._sender = sender
        self._host = host
        self._port = port
        self._use_tls = implicit
        self._starttls = False if implicit else starttls
        self._timeout = timeout
        self._tls_context = tls_context
        self._validate_certs = validate_certs
        self._username = username or None
        self._password = password or None
        self._slots = asyncio.Semaphore(max_connections)

    def __repr__(self) -> str:
        return f"SmtpMailer(host={self._host!r}, port={self._port!r})"

    async def send(self, message: EmailMessage) -> None:
        """Render and send one email; raises :class:`DeliveryFailed`."""
        try:
            rendered = self._renderer.render(message.template, message.locale, message.context)
        except TemplateError as error:
            logger.error("email %s not rendered: %s", message.message_id, error)
            raise DeliveryFailed(str(error), retryable=False) from None
        mime = build_mime(message, rendered, sender=self._sender)
        secrets = [self._password or "", *message.context.values()]
        try:
            async with self._slots:
                await self._deliver(mime)
        except Exception as error:
            failure = classify(error, secrets)
            logger.warning(
                "email %s (%s) not sent: %s; retryable=%s",
                message.message_id,
                message.template,
                failure.reason,
                failure.retryable,
            )
            raise failure from None
        logger.info("email %s (%s, %s) sent", message.message_id, message.template, rendered.locale)

    async def _deliver(self, mime: MimeMessage) -> None:
        client = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=self._password,
            use_tls=self._use_tls,
            start_tls=self._starttls,
            timeout=self._timeout,
            tls_context=self._tls_context,
            validate_certs=self._validate_certs,
        )
        async with client:
            await client.send_message(mime)
