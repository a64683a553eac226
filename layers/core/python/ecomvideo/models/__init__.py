"""SQLAlchemy 2 models: every table of the spec (one module per spec section) and the
additions listed in docs/decisions.md.

Nothing is imported eagerly (cold start): ``from ecomvideo.models import Video`` imports
``ecomvideo.models.videos`` and the modules its relationships name, not all 43 mapped classes.
``load_all()`` imports every model module (Alembic and whoever needs the whole registry).

The model modules do not use ``from __future__ import annotations``: SQLAlchemy would then
``eval`` every column's annotation string while declaring the class (about 13% of the
declaration time, measured); only the relationship targets are strings (``Mapped["User"]``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ecomvideo.models.activity import UserActivity
    from ecomvideo.models.analytics import VideoAnalytics
    from ecomvideo.models.base import Base, utcnow
    from ecomvideo.models.billing import PaymentMethod, SubscriptionPlan, UserSubscription
    from ecomvideo.models.engagement import VideoShare, VideoShareLink
    from ecomvideo.models.freepik import FreepikWebhookEvent
    from ecomvideo.models.jobs import BackgroundJob
    from ecomvideo.models.ledger import CreditMovement, MovementKind, UsageCredit
    from ecomvideo.models.payments import Invoice, Payment
    from ecomvideo.models.pipeline import IdempotencyRecord, PipelineStep
    from ecomvideo.models.preferences import UserPreferences
    from ecomvideo.models.products import ProductCategory, ProductData, ProductImage
    from ecomvideo.models.profile import NotificationSettings, UserInterest
    from ecomvideo.models.ratelimit import RateLimitCounter
    from ecomvideo.models.rollups import AnalyticsCountedSession, VideoAnalyticsDaily
    from ecomvideo.models.scraping import ScrapeDomainGate, ScrapingRule
    from ecomvideo.models.stripe import (
        BillingCustomer,
        CreditPack,
        StripeEvent,
        StripeParkedEvent,
        StripePrice,
    )
    from ecomvideo.models.system import SystemSetting
    from ecomvideo.models.tokens import (
        EmailVerificationToken,
        PasswordResetToken,
        RefreshToken,
        UserSecurityStamp,
    )
    from ecomvideo.models.tracking import ApiUsage
    from ecomvideo.models.users import User, UserRoleAssignment
    from ecomvideo.models.videos import (
        Video,
        VideoCategory,
        VideoTag,
        VideoTemplate,
        video_tag_mappings,
    )
    from ecomvideo.models.webhooks import WebhookDelivery, WebhookEndpoint

_LOCATION: dict[str, str] = {
    "AnalyticsCountedSession": "rollups",
    "ApiUsage": "tracking",
    "BackgroundJob": "jobs",
    "Base": "base",
    "BillingCustomer": "stripe",
    "CreditMovement": "ledger",
    "CreditPack": "stripe",
    "EmailVerificationToken": "tokens",
    "FreepikWebhookEvent": "freepik",
    "IdempotencyRecord": "pipeline",
    "Invoice": "payments",
    "MovementKind": "ledger",
    "NotificationSettings": "profile",
    "PasswordResetToken": "tokens",
    "Payment": "payments",
    "PaymentMethod": "billing",
    "PipelineStep": "pipeline",
    "ProductCategory": "products",
    "ProductData": "products",
    "ProductImage": "products",
    "RateLimitCounter": "ratelimit",
    "RefreshToken": "tokens",
    "ScrapeDomainGate": "scraping",
    "ScrapingRule": "scraping",
    "StripeEvent": "stripe",
    "StripeParkedEvent": "stripe",
    "StripePrice": "stripe",
    "SubscriptionPlan": "billing",
    "SystemSetting": "system",
    "UsageCredit": "ledger",
    "User": "users",
    "UserActivity": "activity",
    "UserInterest": "profile",
    "UserPreferences": "preferences",
    "UserRoleAssignment": "users",
    "UserSecurityStamp": "tokens",
    "UserSubscription": "billing",
    "utcnow": "base",
    "Video": "videos",
    "video_tag_mappings": "videos",
    "VideoAnalytics": "analytics",
    "VideoAnalyticsDaily": "rollups",
    "VideoCategory": "videos",
    "VideoShare": "engagement",
    "VideoShareLink": "engagement",
    "VideoTag": "videos",
    "VideoTemplate": "videos",
    "WebhookDelivery": "webhooks",
    "WebhookEndpoint": "webhooks",
}

MODULES = tuple(sorted(set(_LOCATION.values())))


def __getattr__(name: str) -> Any:
    """PEP 562: ``ecomvideo.models.<Name>`` imports the one module that defines it."""
    module = _LOCATION.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def load_all() -> None:
    """Import every model module: the whole metadata (Alembic's autogenerate, DDL checks)."""
    for module in MODULES:
        importlib.import_module(f"{__name__}.{module}")


__all__ = [
    "AnalyticsCountedSession",
    "ApiUsage",
    "BackgroundJob",
    "Base",
    "BillingCustomer",
    "CreditMovement",
    "CreditPack",
    "EmailVerificationToken",
    "FreepikWebhookEvent",
    "IdempotencyRecord",
    "Invoice",
    "MovementKind",
    "NotificationSettings",
    "PasswordResetToken",
    "Payment",
    "PaymentMethod",
    "PipelineStep",
    "ProductCategory",
    "ProductData",
    "ProductImage",
    "RateLimitCounter",
    "RefreshToken",
    "ScrapeDomainGate",
    "ScrapingRule",
    "StripeEvent",
    "StripeParkedEvent",
    "StripePrice",
    "SubscriptionPlan",
    "SystemSetting",
    "UsageCredit",
    "User",
    "UserActivity",
    "UserInterest",
    "UserPreferences",
    "UserRoleAssignment",
    "UserSecurityStamp",
    "UserSubscription",
    "Video",
    "VideoAnalytics",
    "VideoAnalyticsDaily",
    "VideoCategory",
    "VideoShare",
    "VideoShareLink",
    "VideoTag",
    "VideoTemplate",
    "WebhookDelivery",
    "WebhookEndpoint",
    "utcnow",
    "video_tag_mappings",
]
