"""Request and response models of /v1/me/* and /v1/admin/users/*."""

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from ecomvideo.enums import UserRole
from ecomvideo.schemas.base import Schema
from ecomvideo.schemas.docs import examples as _examples
from ecomvideo.schemas.fields import (
    AspectRatio,
    HttpsUrl,
    Locale,
    Name,
    Password,
    PastDate,
    Phone,
    Timezone,
    UtcDateTime,
    bounded_list,
)

# Allowed values (one place; the web app reads them from the OpenAPI enums).
Resolution = Literal["720x1280", "1080x1920", "1080x1080", "1080x1350", "1280x720", "1920x1080"]
Provider = Literal["Freepik", "Local"]
Theme = Literal["Dark", "Light", "System"]
VideoQuality = Literal["Standard", "High", "Ultra"]
DateFormat = Literal["MM/DD/YYYY", "DD/MM/YYYY", "YYYY-MM-DD", "DD.MM.YYYY"]
TimeFormat = Literal["12h", "24h"]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class _Request(Schema):
    model_config = ConfigDict(extra="forbid")


class _Out(Schema):
    model_config = ConfigDict(from_attributes=True)


class _Page(Schema):
    next_cursor: str | None = None


# ------------------------------------------------------------------------------ profile


class ProfileOut(_Out):
    id: uuid.UUID
    email: str
    email_verified: bool
    first_name: str | None
    last_name: str | None
    avatar_url: str | None
    phone_number: str | None
    date_of_birth: date | None
    timezone: str
    locale: str
    roles: list[str] = Field(json_schema_extra=bounded_list("one entry per role held"))
    created_at: UtcDateTime
    last_login_at: UtcDateTime | None


class ProfileUpdate(_Request):
    """Only the fields sent are changed; ``null`` clears an optional field."""

    model_config = _examples(
        {
            "first_name": "Maria",
            "last_name": "Keller",
            "avatar_url": "https://cdn.lumen-lamps.example.com/team/maria.jpg",
            "phone_number": "+4915112345678",
            "date_of_birth": "1988-04-17",
            "timezone": "Europe/Berlin",
            "locale": "de-DE",
        }
    )

    first_name: Name | None = None
    last_name: Name | None = None
    avatar_url: HttpsUrl | None = None
    phone_number: Phone | None = None
    date_of_birth: PastDate | None = None
    timezone: Timezone | None = None
    locale: Locale | None = None

    @field_validator("timezone", "locale")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value


class ChangePasswordRequest(_Request):
    model_config = _examples(
        {"current_password": "Brass-Arc-Lamp-2026", "new_password": "Walnut-Desk-Lamp-77"}
    )

    current_password: Password = Field(repr=False)
    new_password: Password = Field(repr=False)


class DeleteAccountRequest(_Request):
    model_config = _examples({"password": "Brass-Arc-Lamp-2026"})

    password: Password = Field(repr=False)


# ------------------------------------------------------------------------------ preferences


class PreferencesOut(_Out):
    default_video_resolution: str
    default_aspect_ratio: str
    default_video_duration: int
    preferred_ai_provider: str
    auto_save_to_library: bool
    auto_generate_thumbnails: bool
    watermark_enabled: bool
    default_video_quality: str
    preferred_language: str
    timezone: str
    date_format: str
    time_format: str
    theme: str
    email_notifications_enabled: bool
    push_notifications_enabled: bool
    marketing_emails_enabled: bool
    two_factor_enabled: bool


class PreferencesUpdate(_Request):
    """PUT body: the fields sent replace the stored values, the others stay."""

    model_config = _examples(
        {
            "default_video_resolution": "1080x1920",
            "default_aspect_ratio": "9:16",
            "default_video_duration": 10,
            "preferred_ai_provider": "Local",
            "auto_generate_thumbnails": True,
            "watermark_enabled": False,
            "default_video_quality": "High",
            "preferred_language": "en-US",
            "timezone": "Europe/Berlin",
            "date_format": "DD.MM.YYYY",
            "time_format": "24h",
            "theme": "System",
            "marketing_emails_enabled": False,
        }
    )

    default_video_resolution: Resolution | None = None
    default_aspect_ratio: AspectRatio | None = None
    default_video_duration: int | None = Field(None, ge=3, le=60)
    preferred_ai_provider: Provider | None = None
    auto_save_to_library: bool | None = None
    auto_generate_thumbnails: bool | None = None
    watermark_enabled: bool | None = None
    default_video_quality: VideoQuality | None = None
    preferred_language: Locale | None = None
    timezone: Timezone | None = None
    date_format: DateFormat | None = None
    time_format: TimeFormat | None = None
    theme: Theme | None = None
    email_notifications_enabled: bool | None = None
    push_notifications_enabled: bool | None = None
    marketing_emails_enabled: bool | None = None
    # two_factor_enabled is not settable here: it changes through a 2FA enrolment flow.


class NotificationSettingsOut(_Out):
    video_completed: bool
    video_failed: bool
    subscription_renewal: bool
    subscription_expired: bool
    payment_failed: bool
    new_features: bool
    marketing_updates: bool
    weekly_digest: bool
    email_enabled: bool
    push_enabled: bool
    sms_enabled: bool


class NotificationSettingsUpdate(_Request):
    model_config = _examples(
        {
            "video_completed": True,
            "video_failed": True,
            "weekly_digest": False,
            "marketing_updates": False,
            "push_enabled": True,
            "sms_enabled": False,
        }
    )

    video_completed: bool | None = None
    video_failed: bool | None = None
    subscription_renewal: bool | None = None
    subscription_expired: bool | None = None
    payment_failed: bool | None = None
    new_features: bool | None = None
    marketing_updates: bool | None = None
    weekly_digest: bool | None = None
    email_enabled: bool | None = None
    push_enabled: bool | None = None
    sms_enabled: bool | None = None


class Interest(_Request):
    category: Category
    level: int = Field(1, ge=1, le=5)


class InterestOut(_Out):
    category: str
    level: int


class InterestsUpdate(_Request):
    """PUT body: the complete list (replaces what was stored)."""

    model_config = _examples(
        {
            "interests": [
                {"category": "Home & Garden", "level": 5},
                {"category": "Shoes", "level": 3},
                {"category": "Lifestyle", "level": 2},
            ]
        }
    )

    interests: list[Interest] = Field(max_length=50)

    @field_validator("interests")
    @classmethod
    def _unique_categories(cls, value: list[Interest]) -> list[Interest]:
        seen: set[str] = set()
        for item in value:
            key = item.category.lower()
            if key in seen:
                raise ValueError(f"category {item.category!r} appears twice")
            seen.add(key)
        return value


class InterestsOut(Schema):
    interests: list[InterestOut] = Field(
        json_schema_extra=bounded_list("at most 50, as PUT /v1/me/interests sets them")
    )


# ------------------------------------------------------------------------------ activity


class ActivityOut(_Out):
    id: uuid.UUID
    action: str
    resource_type: str | None
    resource_id: uuid.UUID | None
    description: str | None
    ip_address: str | None
    user_agent: str | None
    created_at: UtcDateTime

    @field_validator("ip_address", mode="before")
    @classmethod
    def _ip_text(cls, value: Any) -> Any:
        return None if value is None else str(value)


class ActivityPage(_Page):
    items: list[ActivityOut]


# ------------------------------------------------------------------------------ admin


class AdminUserOut(_Out):
    id: uuid.UUID
    email: str
    email_verified: bool
    first_name: str | None
    last_name: str | None
    is_active: bool
    roles: list[str]
    failed_login_attempts: int
    locked_until: UtcDateTime | None
    last_login_at: UtcDateTime | None
    created_at: UtcDateTime


class AdminUserPage(_Page):
    items: list[AdminUserOut]


class RoleRequest(_Request):
    model_config = _examples({"role": "Support"})

    role: UserRole
