"""Tracing requests: an enquirer's request to find one or more sought persons."""
