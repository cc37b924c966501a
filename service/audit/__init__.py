"""The audit trail: one row per access to personal data, append-only, hash-chained."""
