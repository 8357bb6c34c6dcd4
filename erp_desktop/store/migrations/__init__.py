"""Alembic migrations of the company file schema (a versioned ladder)."""
