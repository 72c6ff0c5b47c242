"""Turn aiosmtplib errors into :class:`DeliveryFailed`, without any secret.

Rules (RFC 5321: 4xx is transient, 5xx permanent):

* connection errors, timeouts, a dropped connection, and 4xx replies: retryable;
* a 5xx reply to the recipient (``RCPT``) or to the message (``DATA``): not
  retryable, the same email would be refused again;
* a 5xx reply to the login, the sender or the greeting: retryable, because it
  is the server's configuration (wrong app password, unverified sender) that an
  operator fixes, and the outbox's backoff and attempt cap bound the retries.

The reason keeps the SMTP code and the server's text, with the password and the
values inserted into the email (the link, the code) masked.
"""

from __future__ import annotations

from collections.abc import Iterable

import aiosmtplib

from accessgate.domain.model.errors import DeliveryFailed

MASK = "***"
MAX_REASON = 300


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, MASK)
    return " ".join(text.split())[:MAX_REASON]


def _reply(
    stage: str, code: int, message: str, secrets: Iterable[str], *, permanent: bool
) -> DeliveryFailed:
    retryable = not (permanent and 500 <= code < 600)
    reason = f"SMTP {stage} refused: {code} {_scrub(message, secrets)}".rstrip()
    return DeliveryFailed(reason, retryable=retryable)


def classify(error: BaseException, secrets: Iterable[str]) -> DeliveryFailed:
    """The :class:`DeliveryFailed` for an error raised while sending.

    Args:
        error: what aiosmtplib (or the network) raised.
        secrets: strings to mask in the reason (password, link, code, ...).

    """
    secrets = tuple(secrets)
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        refusals = error.recipients
        permanent = bool(refusals) and all(500 <= r.code < 600 for r in refusals)
        first = refusals[0] if refusals else None
        code = first.code if first else 0
        return _reply(
            "recipient", code, first.message if first else "", secrets, permanent=permanent
        )
    if isinstance(error, aiosmtplib.SMTPRecipientRefused):
        return _reply("recipient", error.code, error.message, secrets, permanent=True)
    if isinstance(error, aiosmtplib.SMTPDataError):
        return _reply("message", error.code, error.message, secrets, permanent=True)
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return _reply("login", error.code, error.message, secrets, permanent=False)
    if isinstance(error, aiosmtplib.SMTPSenderRefused):
        return _reply("sender", error.code, error.message, secrets, permanent=False)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return _reply("command", error.code, error.message, secrets, permanent=False)
    if isinstance(error, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return DeliveryFailed("SMTP timeout", retryable=True)
    if isinstance(error, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected | OSError):
        return DeliveryFailed(f"SMTP connection failed: {type(error).__name__}", retryable=True)
    if isinstance(error, aiosmtplib.SMTPException):
        return DeliveryFailed(f"SMTP error: {_scrub(str(error), secrets)}", retryable=True)
    return DeliveryFailed(f"SMTP error: {type(error).__name__}", retryable=True)
