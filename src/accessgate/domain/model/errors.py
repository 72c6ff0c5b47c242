"""Domain errors with stable codes.

Every error the domain raises carries an :class:`ErrorCode`. Entry points map a
code to their own status (the HTTP layer has one table for it); the code and
the message are safe to show a client: they never contain a secret.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class ErrorCode(StrEnum):
    """The stable error codes (seed 000's plus what the API needs)."""

    VALIDATION_ERROR = "VALIDATION_ERROR"
    UNAUTHORIZED = "UNAUTHORIZED"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    PAYMENT_NOT_FOUND = "PAYMENT_NOT_FOUND"
    USER_NOT_FOUND = "USER_NOT_FOUND"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    DUPLICATE_PAYMENT = "DUPLICATE_PAYMENT"
    PROVIDER_REJECTED = "PROVIDER_REJECTED"
    CAPABILITY_NOT_SUPPORTED = "CAPABILITY_NOT_SUPPORTED"
    TOKEN_INVALID = "TOKEN_INVALID"
    TOKEN_USED = "TOKEN_USED"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    ACCESS_REVOKED = "ACCESS_REVOKED"
    ACCESS_EXPIRED = "ACCESS_EXPIRED"
    OTP_INVALID = "OTP_INVALID"
    OTP_EXPIRED = "OTP_EXPIRED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    INVALID_STATE_TRANSITION = "INVALID_STATE_TRANSITION"
    GONE = "GONE"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    RATE_LIMIT_EXCEEDED = "RATE_LIMIT_EXCEEDED"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class DomainError(Exception):
    """Base of every error with a stable code.

    Args:
        message: a human-readable sentence, safe to show a client.
        details: extra machine-readable facts, safe to show a client.

    """

    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL_ERROR
    default_message: ClassVar[str] = "Internal error"

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details: dict[str, Any] = details
        super().__init__(self.message)


class ValidationError(DomainError):
    """Input that breaks a rule of the model (bad email, unknown plan, ...)."""

    code = ErrorCode.VALIDATION_ERROR
    default_message = "Invalid input"


class Unauthorized(DomainError):
    """A caller without valid credentials."""

    code = ErrorCode.UNAUTHORIZED
    default_message = "Missing or invalid credentials"


class InvalidSignature(DomainError):
    """A webhook whose signature does not verify."""

    code = ErrorCode.INVALID_SIGNATURE
    default_message = "Invalid webhook signature"


class PaymentNotFound(DomainError):
    """No order matches the session or payment named."""

    code = ErrorCode.PAYMENT_NOT_FOUND
    default_message = "Payment not found"


class UserNotFound(DomainError):
    """No buyer matches the email or account named."""

    code = ErrorCode.USER_NOT_FOUND
    default_message = "User not found"


class InvalidAmount(DomainError):
    """A paid amount or currency that differs from the order's."""

    code = ErrorCode.INVALID_AMOUNT
    default_message = "Paid amount does not match the order"


class ProviderRejected(DomainError):
    """The payment provider refused the request as invalid."""

    code = ErrorCode.PROVIDER_REJECTED
    default_message = "The payment provider rejected the request"


class CapabilityNotSupported(DomainError):
    """The payment provider does not offer what was asked (portal, status poll, refund)."""

    code = ErrorCode.CAPABILITY_NOT_SUPPORTED
    default_message = "The payment provider does not support this"


class UnknownProvider(ValidationError):
    """A payment provider that is not installed or not listed in ``PAYMENT_PROVIDERS``."""

    default_message = "Unknown payment provider"


class TokenInvalid(DomainError):
    """An activation token that is unknown or was replaced by a newer one."""

    code = ErrorCode.TOKEN_INVALID
    default_message = "Activation token is invalid"


class TokenUsed(DomainError):
    """An activation token already used by another Telegram account."""

    code = ErrorCode.TOKEN_USED
    default_message = "Activation token was already used"


class TokenExpired(DomainError):
    """An activation token past its lifetime."""

    code = ErrorCode.TOKEN_EXPIRED
    default_message = "Activation token has expired"


class AccessRevoked(DomainError):
    """Access that was revoked (refund, dispute) and cannot be used."""

    code = ErrorCode.ACCESS_REVOKED
    default_message = "Access was revoked"


class AccessExpired(DomainError):
    """Access whose paid period is over."""

    code = ErrorCode.ACCESS_EXPIRED
    default_message = "Access has expired"


class OtpInvalid(DomainError):
    """A wrong or unknown restore code."""

    code = ErrorCode.OTP_INVALID
    default_message = "The code is wrong or was not requested"


class OtpExpired(DomainError):
    """A restore code past its lifetime."""

    code = ErrorCode.OTP_EXPIRED
    default_message = "The code has expired; request a new one"


class TooManyAttempts(DomainError):
    """A restore code burnt by too many wrong attempts."""

    code = ErrorCode.TOO_MANY_ATTEMPTS
    default_message = "Too many wrong attempts; request a new code"


class IllegalTransition(DomainError):
    """A state change the transition tables do not allow."""

    code = ErrorCode.INVALID_STATE_TRANSITION
    default_message = "This change of state is not allowed"


class Gone(DomainError):
    """A resource that existed once and is gone for good."""

    code = ErrorCode.GONE
    default_message = "Gone"


class ServiceUnavailable(DomainError):
    """An outside service (database, provider) is unreachable; try again later."""

    code = ErrorCode.SERVICE_UNAVAILABLE
    default_message = "Service temporarily unavailable"


class StorageError(ServiceUnavailable):
    """The storage failed; adapters wrap driver errors in it."""

    default_message = "Storage temporarily unavailable"


class RateLimitExceeded(DomainError):
    """Too many requests in the window."""

    code = ErrorCode.RATE_LIMIT_EXCEEDED
    default_message = "Too many requests"


class DeliveryFailed(Exception):
    """A Mailer or TrackingSink could not deliver; the outbox decides what next.

    Args:
        reason: why, without any secret (it is stored and shown).
        retryable: whether trying again later may succeed.

    """

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        self.reason = reason
        self.retryable = retryable
        super().__init__(reason)
