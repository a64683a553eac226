"""Fixtures of the analytics tests."""

from tests.support.engagement import jwt_env, jwt_keys  # noqa: F401
