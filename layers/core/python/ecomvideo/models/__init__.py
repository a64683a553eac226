"""SQLAlchemy 2 models for every table of the spec (one module per spec section)."""

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
from ecomvideo.models.ledger import CreditMovement, MovementKind
from ecomvideo.models.preferences import NotificationSettings, UserInterest, UserPreferences
from ecomvideo.models.products import ProductCategory, ProductData, ProductImage, ScrapingRule
from ecomvideo.models.system import BackgroundJob, SystemSetting
from ecomvideo.models.users import (
    EmailVerificationToken,
    PasswordResetToken,
    RefreshToken,
    User,
    UserRoleAssignment,
)
from ecomvideo.models.videos import (
    Video,
    VideoCategory,
    VideoShare,
    VideoTag,
    VideoTemplate,
    video_tag_mappings,
)

__all__ = [
    "ApiUsage",
    "BackgroundJob",
    "Base",
    "CreditMovement",
    "EmailVerificationToken",
    "Invoice",
    "MovementKind",
    "NotificationSettings",
    "PasswordResetToken",
    "Payment",
    "PaymentMethod",
    "ProductCategory",
    "ProductData",
    "ProductImage",
    "RefreshToken",
    "ScrapingRule",
    "SubscriptionPlan",
    "SystemSetting",
    "UsageCredit",
    "User",
    "UserActivity",
    "UserInterest",
    "UserPreferences",
    "UserRoleAssignment",
    "UserSubscription",
    "Video",
    "VideoAnalytics",
    "VideoCategory",
    "VideoShare",
    "VideoTag",
    "VideoTemplate",
    "utcnow",
    "video_tag_mappings",
]
