"""The Mailer port."""

from __future__ import annotations

from typing import Protocol

import msgspec

from accessgate.domain.model.outbox import EmailTemplate
from accessgate.domain.model.values import Locale


class EmailMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One email to send: a template, its language and the values to insert.

    ``context`` may hold a secret (the activation link, the restore code): a
    Mailer must not log it, except the console mailer whose purpose that is.
    """

    message_id: str
    to: str
    template: EmailTemplate
    locale: Locale
    context: dict[str, str]


class Mailer(Protocol):
    """Sends templated emails.

    Errors: raise ``DeliveryFailed`` (``retryable`` for connection problems and
    4xx SMTP replies, not for a refused address); the outbox retries. A Mailer
    is called outside any transaction.
    """

    async def send(self, message: EmailMessage) -> None:
        """Render and send one email."""
        ...
