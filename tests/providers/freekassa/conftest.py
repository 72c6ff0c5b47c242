"""The storage fixtures the concurrency test runs on (SQLite; PostgreSQL when running)."""

from tests.storage.conftest import pg_schema, schema  # noqa: F401 - fixtures
