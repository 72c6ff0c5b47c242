"""Fixtures of the access-target tests: the storage backends of tests/storage."""

from tests.storage.conftest import pg_schema, schema  # noqa: F401 - shared fixtures
