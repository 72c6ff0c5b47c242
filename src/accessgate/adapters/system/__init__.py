"""The production clock and token factory."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)


class SecureTokenFactory:
    """Ids and seeds from :mod:`secrets` (ids 96 bits, seeds 128 bits)."""

    def new_id(self, prefix: str) -> str:
        """A random id such as ``ord_3f2a...``."""
        return f"{prefix}_{secrets.token_hex(12)}"

    def new_seed(self) -> str:
        """A 128-bit secret seed in hex."""
        return secrets.token_hex(16)

    def jitter(self) -> float:
        """A random fraction in [0, 1)."""
        return secrets.randbelow(1_000_000) / 1_000_000
