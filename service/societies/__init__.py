"""Societies: the tenants every record belongs to."""
