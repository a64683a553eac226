"""Fakes of outside systems for tests (HTTP-level, no network)."""
