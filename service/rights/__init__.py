"""Data-subject rights: subject-access export, erasure, and retention."""
