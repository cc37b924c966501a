"""Database access: embedded server, engine and sessions, table models."""
