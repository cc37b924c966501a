"""Authentication: token verification and signing."""
