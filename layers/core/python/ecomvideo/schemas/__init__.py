"""Pydantic request/response models: the API contract and the OpenAPI source."""
