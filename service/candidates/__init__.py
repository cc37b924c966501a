"""Candidate links: blocking keys in PostgreSQL, scoring jobs, review and search."""
