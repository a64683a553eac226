"""Who is calling: the user and their roles, as the authorizer established them.

Services take a ``Principal`` for ownership and role checks; the API builds it from the request
context (``ecomvideo.http.auth``), so services need nothing from the HTTP layer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    roles: frozenset[str]

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))
