"""A Mailer that writes each rendered email to the log instead of sending it.

It is the default when no SMTP server is configured, so that the quick start
works without one: the activation link and the restore code are read from the
log. That is its purpose, and the one place where a code is ever logged; a
production start-up must refuse it.
"""

from __future__ import annotations

import logging

import msgspec

from accessgate.adapters.smtp.renderer import RenderedEmail, TemplateError, TemplateRenderer
from accessgate.domain.model.errors import DeliveryFailed
from accessgate.ports.mailer import EmailMessage

MAIL_LOGGER = "accessgate.mail"


class ConsoleEmail(msgspec.Struct, frozen=True, kw_only=True):
    """One email the console mailer wrote: what it was asked and what it rendered."""

    message: EmailMessage
    rendered: RenderedEmail


class ConsoleMailer:
    """Writes each email (subject, recipient, plain-text body) to a logger at INFO.

    Args:
        renderer: renders the templates, exactly as for SMTP.
        logger: where to write; the ``accessgate.mail`` logger by default.
        keep: how many of the last emails ``sent`` keeps (tests read them).

    """

    def __init__(
        self,
        renderer: TemplateRenderer,
        logger: logging.Logger | None = None,
        *,
        keep: int = 100,
    ) -> None:
        if keep < 1:
            raise ValueError("keep must be positive")
        self._renderer = renderer
        self._logger = logger or logging.getLogger(MAIL_LOGGER)
        self._keep = keep
        self.sent: list[ConsoleEmail] = []

    async def send(self, message: EmailMessage) -> None:
        """Render the email and log it; raises :class:`DeliveryFailed` on a broken template."""
        try:
            rendered = self._renderer.render(message.template, message.locale, message.context)
        except TemplateError as error:
            raise DeliveryFailed(str(error), retryable=False) from None
        self._logger.info(
            "email %s (console mailer, not sent)\nTo: %s\nSubject: %s\n\n%s",
            message.message_id,
            message.to,
            rendered.subject,
            rendered.text,
        )
        self.sent.append(ConsoleEmail(message=message, rendered=rendered))
        del self.sent[: -self._keep]
