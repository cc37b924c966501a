"""Sharing between societies: grants, shared reads and the transfers ledger."""
