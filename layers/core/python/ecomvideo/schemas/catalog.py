"""Request and response models of the catalogue: templates, video categories, tags."""

import uuid
from typing import Annotated, Any, Self

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from ecomvideo.prompts import template_variables
from ecomvideo.schemas.base import Schema
from ecomvideo.schemas.docs import examples as _examples
from ecomvideo.schemas.fields import AspectRatio, UtcDateTime, bounded_list

Hex = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]
Name100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Name200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
TagName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
ResolutionText = Annotated[str, StringConstraints(pattern=r"^\d{2,4}x\d{2,4}$")]
Url500 = Annotated[str, StringConstraints(max_length=500)]


class _Out(Schema):
    model_config = ConfigDict(from_attributes=True)


class _Request(Schema):
    model_config = ConfigDict(extra="forbid")


class CategoryOut(_Out):
    id: uuid.UUID
    name: str
    description: str | None = None
    color_hex: str | None = None
    icon_name: str | None = None
    sort_order: int | None = 0
    is_active: bool | None = True


# sort_order is an INTEGER column: out-of-range values were a 500 (DataError) until bounded.
SortOrder = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]


class CategoryIn(_Request):
    model_config = _examples(
        {
            "name": "Holiday Gifts",
            "description": "Festive product spots for the gift season.",
            "color_hex": "#D63031",
            "icon_name": "gift",
            "sort_order": 5,
            "is_active": True,
        }
    )

    name: Name100
    description: str | None = None
    color_hex: Hex | None = None
    icon_name: Annotated[str, StringConstraints(max_length=50)] | None = None
    sort_order: SortOrder = 0
    is_active: bool = True


class CategoryPatch(_Request):
    model_config = _examples({"color_hex": "#E84393", "sort_order": 2})

    name: Name100 | None = None
    description: str | None = None
    color_hex: Hex | None = None
    icon_name: Annotated[str, StringConstraints(max_length=50)] | None = None
    sort_order: SortOrder | None = None
    is_active: bool | None = None


class TemplateOut(_Out):
    id: uuid.UUID
    category_id: uuid.UUID | None = None
    name: str
    description: str | None = None
    thumbnail_url: str | None = None
    preview_url: str | None = None
    prompt_template: str
    variables: list[str] = Field(
        default_factory=list, json_schema_extra=bounded_list("the prompt template's placeholders")
    )
    style_settings: dict[str, Any] | None = None
    default_duration: int | None = 5
    aspect_ratio: str | None = "9:16"
    resolution: str | None = "1080x1920"
    is_premium: bool | None = False
    is_active: bool | None = True
    usage_count: int | None = 0
    created_at: UtcDateTime

    @model_validator(mode="after")
    def _list_variables(self) -> Self:
        self.variables = template_variables(self.prompt_template)
        return self


class TemplateIn(_Request):
    model_config = _examples(
        {
            "name": "Cozy Evening",
            "description": "A lamp or home product glowing in a warm living room at dusk.",
            "thumbnail_url": "https://cdn.ecomvideo.example.com/templates/cozy-evening.jpg",
            "prompt_template": (
                "{product_name} by {brand} glowing on a side table in a cozy living room at "
                "dusk, warm light, slow dolly-in, price tag {price}"
            ),
            "style_settings": {"mood": "warm", "camera": "dolly-in"},
            "default_duration": 5,
            "aspect_ratio": "9:16",
            "resolution": "1080x1920",
            "is_premium": False,
            "is_active": True,
        }
    )

    category_id: uuid.UUID | None = None
    name: Name200
    description: str | None = None
    thumbnail_url: Url500 | None = None
    preview_url: Url500 | None = None
    prompt_template: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    style_settings: dict[str, Any] | None = None
    default_duration: int = Field(5, ge=1, le=60)
    aspect_ratio: AspectRatio = "9:16"
    resolution: ResolutionText = "1080x1920"
    is_premium: bool = False
    is_active: bool = True


class TemplatePatch(_Request):
    model_config = _examples({"default_duration": 10, "is_premium": True})

    category_id: uuid.UUID | None = None
    name: Name200 | None = None
    description: str | None = None
    thumbnail_url: Url500 | None = None
    preview_url: Url500 | None = None
    prompt_template: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None
    style_settings: dict[str, Any] | None = None
    default_duration: int | None = Field(None, ge=1, le=60)
    aspect_ratio: AspectRatio | None = None
    resolution: ResolutionText | None = None
    is_premium: bool | None = None
    is_active: bool | None = None


class TagOut(_Out):
    id: uuid.UUID
    name: str
    color_hex: str | None = None
    usage_count: int | None = 0


class TagIn(_Request):
    model_config = _examples({"name": "summer-sale", "color_hex": "#FDCB6E"})

    name: TagName
    color_hex: Hex | None = None


class TagPatch(_Request):
    model_config = _examples({"name": "black-friday", "color_hex": "#2D3436"})

    name: TagName | None = None
    color_hex: Hex | None = None


class TemplateList(Schema):
    items: list[TemplateOut]
    next_cursor: str | None = None


class CategoryList(Schema):
    items: list[CategoryOut]


class TagList(Schema):
    items: list[TagOut]
    next_cursor: str | None = None


class MusicTrackOut(Schema):
    """A bundled royalty-free loop (CC0) to use as ``music.track`` on ``POST /v1/videos``."""

    id: str
    name: str
    mood: str
    bpm: int
    duration_seconds: float = Field(description="One loop; it repeats under longer videos")


class MusicTrackList(Schema):
    model_config = _examples(
        {
            "items": [
                {
                    "id": "bright-pop",
                    "name": "Bright Pop",
                    "mood": "upbeat",
                    "bpm": 120,
                    "duration_seconds": 16.0,
                }
            ]
        }
    )

    items: list[MusicTrackOut]
