"""Bulk ingestion: `kintrace import FILE` (CSV or JSON Lines) through the API's own services."""
