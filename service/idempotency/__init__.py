"""Idempotency keys for POST requests (IETF draft-ietf-httpapi-idempotency-key-header)."""
