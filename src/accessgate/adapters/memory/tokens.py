"""A deterministic token factory for tests and simulations."""

from __future__ import annotations

import itertools


class DeterministicTokenFactory:
    """Counting ids and seeds, and a fixed jitter: repeatable tests."""

    def __init__(self, jitter: float = 0.0) -> None:
        self._counter = itertools.count(1)
        self._jitter = jitter

    def new_id(self, prefix: str) -> str:
        """``<prefix>_000001``, ``<prefix>_000002``, ..."""
        return f"{prefix}_{next(self._counter):06d}"

    def new_seed(self) -> str:
        """``seed-000003``, ... (not secret: tests only)."""
        return f"seed-{next(self._counter):06d}"

    def jitter(self) -> float:
        """The fixed jitter."""
        return self._jitter
