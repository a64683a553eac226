"""What a video costs in credits: per started 5 s, times the resolution class's multiplier, plus
the provider's extra (``credits.cost.*`` system settings). Apart from the ledger
(``services.credits``) so that pricing a request or a video's formats does not declare the
ledger's models.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.orm import Session

from ecomvideo.services import system_settings


def resolution_class(resolution: str) -> str:
    """'1080x1920' -> '1080p'; '720p' stays; anything above 1920 px is '4k'."""
    text = resolution.lower().strip()
    if text in {"720p", "1080p", "4k"}:
        return text
    try:
        width, height = (int(part) for part in text.split("x", 1))
    except ValueError:
        return "1080p"
    longest = max(width, height)
    if longest <= 1280:
        return "720p"
    if longest <= 1920:
        return "1080p"
    return "4k"


def quote(session: Session, *, duration_seconds: int, resolution: str, provider: str) -> int:
    """Credits a video costs: per started 5 s, times the resolution multiplier, plus extras."""
    base = int(system_settings.get(session, "credits.cost.base_per_5s", 1))
    multipliers: dict[str, Any] = system_settings.get(
        session, "credits.cost.resolution_multiplier", {"720p": 1, "1080p": 1, "4k": 2}
    )
    extras: dict[str, Any] = system_settings.get(
        session, "credits.cost.provider_extra", {"Local": 0, "Freepik": 1}
    )
    blocks = max(1, math.ceil(duration_seconds / 5))
    multiplier = int(multipliers.get(resolution_class(resolution), 1))
    return blocks * base * multiplier + int(extras.get(provider, 0))
