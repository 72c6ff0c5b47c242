"""The TokenFactory port."""

from __future__ import annotations

from typing import Protocol


class TokenFactory(Protocol):
    """The source of ids and randomness.

    The production adapter draws from :mod:`secrets`; a deterministic one
    serves tests.
    """

    def new_id(self, prefix: str) -> str:
        """A new unique id such as ``ord_...``; not secret, URL-safe."""
        ...

    def new_seed(self) -> str:
        """A new secret seed of at least 128 random bits, as text."""
        ...

    def jitter(self) -> float:
        """A random fraction in [0, 1) to spread retries."""
        ...
