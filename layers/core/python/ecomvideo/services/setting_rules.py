"""What each ``system_settings`` key may hold: its data type and the range of its values.

An admin edit used to accept any key and any number (negative or zero video costs let videos
complete with no ledger entry). Every key the code reads is listed here with a check;
``system_settings.update`` refuses unknown keys and values outside the rule (422).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

Check = Callable[[Any], str | None]  # an error message, or None when the value is acceptable


def integer(low: int, high: int) -> Check:
    def check(value: Any) -> str | None:
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            return "must be a whole number"
        if number != number.to_integral_value():
            return "must be a whole number"
        if not low <= number <= high:
            return f"must be between {low} and {high}"
        return None

    return check


def integer_map(keys: frozenset[str] | None, low: int, high: int) -> Check:
    """A JSON object of whole numbers in [low, high], keyed by ``keys`` (any subset), or by
    any names when ``keys`` is None."""
    each = integer(low, high)

    def check(value: Any) -> str | None:
        if not isinstance(value, dict):
            return "must be a JSON object"
        for name, item in value.items():
            if keys is not None and name not in keys:
                return f"has an unknown key {name!r} (allowed: {', '.join(sorted(keys))})"
            if isinstance(item, bool) or not isinstance(item, int | float | str):
                return f"{name!r} must be a whole number"
            problem = each(item)
            if problem:
                return f"{name!r} {problem}"
        return None

    return check


def plan_limits(value: Any) -> str | None:
    """``{"<plan>": {"requests_per_minute": n, "video_creations_per_hour": n}}``."""
    if not isinstance(value, dict):
        return "must be a JSON object"
    fields = frozenset({"requests_per_minute", "video_creations_per_hour"})
    for plan, limits in value.items():
        problem = integer_map(fields, 1, 1_000_000)(limits)
        if problem:
            return f"plan {plan!r} {problem}"
    return None


def _none(value: Any) -> str | None:
    return None


RESOLUTIONS = frozenset({"720p", "1080p", "4k"})
PROVIDERS = frozenset({"Local", "Freepik"})
RETENTION = integer(1, 3650)

# key -> (data type, check)
RULES: dict[str, tuple[str, Check]] = {
    "credits.cost.base_per_5s": ("number", integer(1, 1000)),
    "credits.cost.resolution_multiplier": ("json", integer_map(RESOLUTIONS, 1, 100)),
    "credits.cost.provider_extra": ("json", integer_map(PROVIDERS, 0, 1000)),
    "credits.free_grant_days": ("number", integer(1, 3650)),
    "billing.allow_generation_when_past_due": ("boolean", _none),
    "billing.past_due_grace_days": ("number", integer(0, 60)),
    "billing.subscription_expiry_grace_hours": ("number", integer(0, 720)),
    "retention.user_activity_days": ("number", RETENTION),
    "retention.video_analytics_days": ("number", RETENTION),
    "retention.api_usage_days": ("number", RETENTION),
    "retention.background_jobs_days": ("number", RETENTION),
    "retention.webhook_deliveries_days": ("number", RETENTION),
    "retention.webhook_events_days": ("number", RETENTION),
    "pipeline.stuck_video_minutes": ("number", integer(5, 1440)),
    # Provider tasks in flight at once per provider account, by provider name (0: no gate).
    "pipeline.provider_concurrency": ("json", integer_map(None, 0, 100)),
    "ratelimit.requests_per_minute": ("number", integer(1, 1_000_000)),
    "ratelimit.anonymous_requests_per_minute": ("number", integer(1, 1_000_000)),
    "ratelimit.video_creations_per_hour": ("number", integer(1, 1_000_000)),
    "ratelimit.plans": ("json", plan_limits),
    "analytics.ip_anonymization": ("boolean", _none),
    "webhooks.credits_low_threshold": ("number", integer(0, 1_000_000)),
    "app.maintenance_mode": ("boolean", _none),
}


def problem(key: str, value: Any, data_type: str | None) -> str | None:
    """Why ``value`` (decoded) may not be stored under ``key`` with ``data_type``, or None."""
    rule = RULES.get(key)
    if rule is None:
        return "is not a known setting"
    expected, check = rule
    if data_type is not None and data_type != expected:
        return f"has data type {expected}"
    return check(value)
