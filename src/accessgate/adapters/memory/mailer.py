"""A recording mailer."""

from __future__ import annotations

from accessgate.domain.model.errors import DeliveryFailed
from accessgate.ports.mailer import EmailMessage


class RecordingMailer:
    """Keeps every email it is asked to send in ``sent``.

    Set ``fail_with`` to make the next sends fail (fault tests).
    """

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.fail_with: DeliveryFailed | None = None

    async def send(self, message: EmailMessage) -> None:
        """Record the message, or raise ``fail_with``."""
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(message)
