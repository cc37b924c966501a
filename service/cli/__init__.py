"""The `kintrace` command line."""

from __future__ import annotations

from service.cli.main import app, main

__all__ = ["app", "main"]
