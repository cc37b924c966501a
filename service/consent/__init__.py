"""Consent records, their withdrawal, and requests not to be traced."""
