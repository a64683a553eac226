"""SQLAlchemy 2 models: every table of the spec (one module per spec section) and the
additions listed in docs/decisions.md. Every model module is imported here so Alembic sees it."""

from ecomvideo.models.analytics import ApiUsage, UserActivity, VideoAnalytics
from ecomvideo.models.base import Base, utcnow
from ecomvideo.models.billing import (
    Invoice,
    Payment,
    PaymentMethod,
    SubscriptionPlan,
    UsageCredit,
    UserSubscription,
)
from ecomvideo.models.engagement import (
    AnalyticsCountedSession,
    VideoAnalyticsDaily,
    VideoShareLink,
)
from ecomvideo.models.freepik import FreepikWebhookEvent
from ecomvideo.models.ledger import CreditMovement, MovementKind
from ecomvideo.models.pipeline import IdempotencyRecord, PipelineStep
from ecomvideo.models.preferences import NotificationSettings, UserInterest, UserPreferences
from ecomvideo.models.products import ProductCategory, ProductData, ProductImage, ScrapingRule
from ecomvideo.models.ratelimit import RateLimitCounter
from ecomvideo.models.scraping import ScrapeDomainGate
from ecomvideo.models.stripe import (
    BillingCustomer,
    CreditPack,
    StripeEvent,
    StripeParkedEvent,
    StripePrice,
)
from ecomvideo.models.system import BackgroundJob, SystemSetting
from ecomvideo.models.users import (
    EmailVerificationToken,
    PasswordResetToken,
    RefreshToken,
    User,
    UserRoleAssignment,
    UserSecurityStamp,
)
from ecomvideo.models.videos import (
    Video,
    VideoCategory,
    VideoShare,
    VideoTag,
    VideoTemplate,
    video_tag_mappings,
)
from ecomvideo.models.webhooks import WebhookDelivery, WebhookEndpoint

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
