"""Shared API helpers: the resolver factory, problem+json errors, auth context, pagination."""
