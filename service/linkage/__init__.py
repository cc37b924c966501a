"""Bulk linkage of CSV files (`kintrace link`, `kintrace dedupe`) with the matching engine."""
