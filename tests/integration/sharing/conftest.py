"""Fixtures of the sharing tests (shared with analytics and rate limits)."""

from tests.support.engagement import jwt_env, jwt_keys  # noqa: F401
