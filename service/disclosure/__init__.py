"""Disclosure: what a located person allows their enquirer to learn."""
