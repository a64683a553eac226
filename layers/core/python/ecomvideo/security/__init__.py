"""Password hashing, opaque tokens and access JWTs.

Submodules are imported explicitly (``from ecomvideo.security import jwt``): the authorizer
imports only ``security.jwt`` and must stay free of SQLAlchemy and boto3.
"""
