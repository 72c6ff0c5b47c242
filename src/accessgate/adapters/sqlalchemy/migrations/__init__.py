"""Alembic migrations of the storage, configured in code (no alembic.ini)."""
