"""Alembic migrations of the archive, run at start-up by its writer (store.migrate)."""
