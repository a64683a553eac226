"""The spec's enums. Stored values are exactly the spec's strings (VARCHAR + CHECK in the DB)."""

from __future__ import annotations

from enum import StrEnum


class VideoStatus(StrEnum):
    PENDING = "Pending"
    PROCESSING = "Processing"
    GENERATING_IMAGE = "GeneratingImage"
    GENERATING_VIDEO = "GeneratingVideo"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_VIDEO_STATUSES


TERMINAL_VIDEO_STATUSES = frozenset(
    {VideoStatus.COMPLETED, VideoStatus.FAILED, VideoStatus.CANCELLED}
)


class VideoInputType(StrEnum):
    TEXT = "Text"
    IMAGE = "Image"
    URL = "Url"


class SubscriptionStatus(StrEnum):
    ACTIVE = "Active"
    CANCELLED = "Cancelled"
    EXPIRED = "Expired"
    TRIAL = "Trial"
    PAST_DUE = "PastDue"


# Statuses that count as "the user's current subscription" (one per user, enforced in the DB).
ACTIVE_SUBSCRIPTION_STATUSES = (
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.TRIAL,
    SubscriptionStatus.PAST_DUE,
)


class PaymentStatus(StrEnum):
    PENDING = "Pending"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    REFUNDED = "Refunded"
    CANCELLED = "Cancelled"


class UserRole(StrEnum):
    USER = "User"
    ADMIN = "Admin"
    MODERATOR = "Moderator"
    SUPPORT = "Support"


class NotificationType(StrEnum):
    INFO = "Info"
    WARNING = "Warning"
    ERROR = "Error"
    SUCCESS = "Success"


class ScrapingStatus(StrEnum):
    PENDING = "Pending"
    SUCCESS = "Success"
    FAILED = "Failed"


class BillingCycle(StrEnum):
    MONTHLY = "Monthly"
    YEARLY = "Yearly"


class PaymentMethodType(StrEnum):
    CREDIT_CARD = "CreditCard"
    PAYPAL = "PayPal"
    BANK_ACCOUNT = "BankAccount"


class PaymentProvider(StrEnum):
    STRIPE = "Stripe"
    PAYPAL = "PayPal"


class InvoiceStatus(StrEnum):
    DRAFT = "Draft"
    SENT = "Sent"
    PAID = "Paid"
    CANCELLED = "Cancelled"


class CreditType(StrEnum):
    VIDEO_GENERATION = "VideoGeneration"
    PREMIUM_FEATURE = "PremiumFeature"


class CreditSource(StrEnum):
    SUBSCRIPTION = "Subscription"
    PURCHASE = "Purchase"
    BONUS = "Bonus"
    REFUND = "Refund"


class AnalyticsEventType(StrEnum):
    VIEW = "View"
    DOWNLOAD = "Download"
    SHARE = "Share"
    LIKE = "Like"


class DeviceType(StrEnum):
    MOBILE = "Mobile"
    DESKTOP = "Desktop"
    TABLET = "Tablet"


class JobStatus(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"


class SettingDataType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    JSON = "json"


class AIProvider(StrEnum):
    """Known providers. The column is open-ended in the spec ('etc.'), so no CHECK constraint."""

    FREEPIK = "Freepik"
    LOCAL = "Local"
    RUNWAYML = "RunwayML"
    STABILITYAI = "StabilityAI"
