"""Persistence: the store interface and its SQL backend (SQLite, PostgreSQL)."""
