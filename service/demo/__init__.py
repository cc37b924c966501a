"""Synthetic, seeded demo data for Kintrace (loaded by `kintrace demo`)."""
