"""Where the real PostgreSQL and Redis of the test run are, and whether they are required.

``.ci/run`` sets ``ACCESSGATE_TEST_POSTGRES_URL`` and ``ACCESSGATE_TEST_REDIS_URL``
and makes them mandatory (``ACCESSGATE_TEST_REQUIRE_SERVICES=1``, or ``CI=true``):
a missing server then fails the test instead of skipping it.
"""

from __future__ import annotations

import os

import pytest

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def services_required() -> bool:
    return (
        os.environ.get("ACCESSGATE_TEST_REQUIRE_SERVICES") == "1"
        or os.environ.get("CI", "").lower() == "true"
    )


def postgres_url() -> str:
    return os.environ.get("ACCESSGATE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def redis_url() -> str:
    return os.environ.get("ACCESSGATE_TEST_REDIS_URL", DEFAULT_REDIS_URL)


def unavailable(what: str, error: BaseException) -> None:
    """Fail under CI, skip with the reason elsewhere."""
    message = f"{what} is not reachable ({type(error).__name__}: {error})"
    if services_required():
        pytest.fail(f"{message}; it is required in this run", pytrace=False)
    pytest.skip(f"{message}; start it or set its URL to run these tests")
