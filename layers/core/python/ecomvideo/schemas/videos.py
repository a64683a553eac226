"""Request and response models of /v1/videos, /v1/uploads and /v1/credits."""

import uuid
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from ecomvideo.enums import VideoInputType, VideoStatus
from ecomvideo.media.formats import RenderedVideoMetadata
from ecomvideo.schemas.base import Schema
from ecomvideo.schemas.docs import examples as _examples
from ecomvideo.schemas.fields import AspectRatio, HttpsUrl, UtcDateTime, bounded_list

Provider = Literal["Local", "Freepik"]
ImageContentType = Literal["image/jpeg", "image/png", "image/webp"]
AudioContentType = Literal[
    "audio/mpeg", "audio/mp4", "audio/x-m4a", "audio/aac", "audio/wav", "audio/x-wav", "audio/ogg"
]
TagName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
VariableValue = Annotated[str, StringConstraints(max_length=300)]
# "1080x1920" or a class ("720p", "1080p", "4k") resolved with the aspect ratio.
Resolution = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, pattern=r"^(\d{2,4}x\d{2,4}|720p|1080p|4k)$"
    ),
]


class _Request(Schema):
    model_config = ConfigDict(extra="forbid")


class MusicChoice(_Request):
    """The music bed under the video (every format): one bundled loop (``GET
    /v1/music/tracks``) or one audio upload (``POST /v1/uploads`` with an audio type). It is
    looped or cut to the video's length, faded in and out and normalised to -14 LUFS; it costs
    no credits."""

    model_config = _examples({"track": "bright-pop"}, {"upload_key": "users/<id>/<hex>.mp3"})

    track: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    upload_key: Annotated[str, StringConstraints(max_length=400)] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.track is None) == (self.upload_key is None):
            raise ValueError("music needs exactly one of track or upload_key")
        return self


class VideoCreate(_Request):
    """POST /v1/videos (and /v1/videos/quote). Unset fields come from preferences/template."""

    model_config = _examples(
        {
            "input_type": "Url",
            "product_url": "https://lumen-lamps.example.com/products/arc-floor-lamp-brass",
            "title": "Arc floor lamp in brushed brass",
            "tags": ["lighting", "living-room"],
            "style": "warm cinematic evening light",
            "duration_seconds": 5,
            "aspect_ratio": "9:16",
            "resolution": "1080p",
            "provider": "Local",
        },
        {
            "input_type": "Image",
            "image_url": "https://cdn.stride-sneakers.example.com/img/aero-runner-white-side.jpg",
            "title": "Aero Runner - white",
            "description": "Lightweight knit running sneaker with a recycled foam sole.",
            "style": "fast cuts, studio white background",
            "duration_seconds": 5,
            "aspect_ratio": "9:16",
            "provider": "Local",
        },
        {
            "input_type": "Text",
            "title": "Autumn sale teaser",
            "text_prompt": (
                "A walnut desk lamp switching on in a cosy reading corner at dusk, "
                "slow push-in, text overlay '20% off this week'"
            ),
            "tags": ["sale"],
            "duration_seconds": 5,
            "aspect_ratio": "9:16",
            "resolution": "720p",
            "provider": "Local",
        },
    )

    input_type: VideoInputType
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None
    text_prompt: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None
    ) = None
    template_id: uuid.UUID | None = None
    variables: dict[Annotated[str, StringConstraints(max_length=50)], VariableValue] = Field(
        default_factory=dict, max_length=30
    )
    upload_key: Annotated[str, StringConstraints(max_length=400)] | None = None
    more_upload_keys: list[Annotated[str, StringConstraints(max_length=400)]] = Field(
        default_factory=list,
        max_length=7,
        description="More uploaded photos for the storyboard's scenes (any input type).",
    )
    image_url: HttpsUrl | None = None
    product_url: HttpsUrl | None = None
    category: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    tags: list[TagName] = Field(default_factory=list, max_length=20)
    style: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    duration_seconds: int | None = Field(None, ge=1, le=60)
    aspect_ratio: AspectRatio | None = None
    formats: list[AspectRatio] | None = Field(
        None,
        max_length=4,
        description="Every format to render from the one storyboard (one MP4 and thumbnail "
        "each, same short side as the main one). The main format is `aspect_ratio`, else the "
        "first listed. Each extra format costs a render of the same duration.",
        examples=[["9:16", "1:1", "16:9"]],
    )
    resolution: Resolution | None = None
    provider: Provider | None = None
    auto_render: bool = Field(
        True,
        description="false: the video waits with its storyboard (GET/PATCH .../storyboard) "
        "until POST /v1/videos/{id}/render; the credits are held at creation either way.",
    )
    music: MusicChoice | None = Field(
        None, description="A music bed (no credits); absent or null: a silent audio track."
    )

    @model_validator(mode="after")
    def _inputs_match_type(self) -> Self:
        kind = self.input_type
        if kind is VideoInputType.TEXT and not (self.text_prompt or self.template_id):
            raise ValueError("a Text video needs text_prompt or template_id")
        if kind is VideoInputType.IMAGE and bool(self.upload_key) == bool(self.image_url):
            raise ValueError("an Image video needs exactly one of upload_key or image_url")
        if kind is VideoInputType.URL and not self.product_url:
            raise ValueError("a Url video needs product_url")
        if kind is not VideoInputType.IMAGE and (self.upload_key or self.image_url):
            raise ValueError("upload_key/image_url are only for Image videos")
        if kind is not VideoInputType.URL and self.product_url:
            raise ValueError("product_url is only for Url videos")
        return self


class VideoUpdate(_Request):
    """PATCH /v1/videos/{id}: only the fields sent change."""

    model_config = _examples(
        {
            "title": "Arc floor lamp - spring campaign",
            "tags": ["lighting", "spring"],
            "is_public": True,
        }
    )

    title: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None
    category: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    tags: list[TagName] | None = Field(None, max_length=20)
    is_public: bool | None = None


class VideoAccepted(Schema):
    model_config = _examples(
        {"id": "5b0f2a8e-3c41-4d7a-9e62-8f1d0c7b4a93", "status": "Pending", "cost": 1}
    )

    id: uuid.UUID
    status: VideoStatus
    cost: int


class SceneOut(Schema):
    """One scene of a storyboard; ``image`` indexes the storyboard's ``images``."""

    id: str
    kind: Literal["hook", "hero", "feature", "social_proof", "price", "cta"]
    duration: float
    text: str
    subtext: str | None = None
    image: int | None = None
    layout: Literal["full_bleed", "split", "card", "end_card"]
    transition: Literal["cut", "crossfade", "slide"]
    media: Literal["product_image", "design", "generated_clip"] = Field(
        "product_image",
        description="What the scene shows: a product photo (image), a designed background, or "
        "the provider's generated image-to-video clip (falls back to the photo if unusable)",
    )


class StoryboardOut(Schema):
    """The plan of a video: ordered scenes with their text, picture, length and transition."""

    video_id: uuid.UUID | None = None
    duration_seconds: float
    edited: bool = False
    images: list[str] = Field(
        default_factory=list, json_schema_extra=bounded_list("the product's and uploaded photos")
    )
    scenes: list[SceneOut] = Field(json_schema_extra=bounded_list("at most 12 scenes"))
    music: MusicChoice | None = Field(None, description="The music bed; null: a silent track")


class SceneEdit(_Request):
    """A scene in its new position; fields not sent keep their value."""

    id: Annotated[str, StringConstraints(max_length=10)]
    text: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
        | None
    ) = None
    subtext: Annotated[str, StringConstraints(strip_whitespace=True, max_length=160)] | None = None
    image: int | None = Field(None, ge=0, le=7)
    duration: float | None = Field(None, ge=0.5, le=60)
    transition: Literal["cut", "crossfade", "slide"] | None = None


class StoryboardEdit(_Request):
    """PATCH /v1/videos/{id}/storyboard: the scenes to change (unset fields keep their value);
    listing every scene sets their order. The durations must still add up to the video's
    duration (the credits were quoted for it). ``music`` sent changes the bed (null: silent);
    not sent, it stays."""

    model_config = _examples(
        {
            "scenes": [
                {"id": "s1", "text": "Meet Aurora"},
                {"id": "s3"},
                {"id": "s2", "duration": 2.5},
                {"id": "s4"},
            ]
        }
    )

    scenes: list[SceneEdit] = Field(default_factory=list, max_length=12)
    music: MusicChoice | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.scenes and "music" not in self.model_fields_set:
            raise ValueError("send scenes to change, music, or both")
        return self


class Quote(Schema):
    cost: int
    balance: int
    duration_seconds: int
    resolution: str
    aspect_ratio: str
    formats: list[str] = Field(
        default_factory=list, description="Every format the cost covers, the main one first"
    )
    provider: str
    storyboard: StoryboardOut | None = None


class VideoSummary(Schema):
    id: uuid.UUID
    title: str
    description: str | None = None
    status: VideoStatus
    input_type: VideoInputType
    aspect_ratio: str
    resolution: str
    duration_seconds: int
    category_id: uuid.UUID | None = None
    template_id: uuid.UUID | None = None
    tags: list[str] = Field(
        default_factory=list, json_schema_extra=bounded_list("at most 20 tags per video")
    )
    is_public: bool = False
    ai_provider: str | None = None
    thumbnail_url: str | None = None
    created_at: UtcDateTime
    completed_at: UtcDateTime | None = None


class FormatOut(Schema):
    """One rendered format of a Completed video (the main one first)."""

    aspect_ratio: str
    width: int
    height: int
    download_url: str
    thumbnail_url: str | None = None
    file_size_bytes: int


class VideoDetail(VideoSummary):
    model_config = _examples(
        {
            "id": "5b0f2a8e-3c41-4d7a-9e62-8f1d0c7b4a93",
            "title": "Arc floor lamp in brushed brass",
            "description": None,
            "status": "Completed",
            "input_type": "Url",
            "aspect_ratio": "9:16",
            "resolution": "1080x1920",
            "duration_seconds": 5,
            "category_id": None,
            "template_id": None,
            "tags": ["lighting", "living-room"],
            "is_public": False,
            "ai_provider": "Local",
            "thumbnail_url": "https://media.ecomvideo.example.com/thumbs/5b0f2a8e.jpg",
            "created_at": "2026-11-20T14:03:11Z",
            "completed_at": "2026-11-20T14:04:02Z",
            "text_prompt": (
                "Cinematic studio shot of Arc floor lamp in brushed brass, soft rim light, "
                "slow camera push-in"
            ),
            "style": "warm cinematic evening light",
            "progress_step": None,
            "progress_percent": 100,
            "poll_after_seconds": None,
            "error_message": None,
            "download_url": "https://media.ecomvideo.example.com/videos/5b0f2a8e.mp4?X-Amz-Expires=3600",
            "download_url_expires_in": 3600,
            "file_size_bytes": 3481920,
            "download_count": 2,
            "view_count": 57,
            "generation_cost_credits": 1,
            "metadata": {
                "width": 1080,
                "height": 1920,
                "frameRate": 30.0,
                "format": "mp4",
                "codec": "h264",
                "bitrate": 5500000,
                "duration": 5.0,
                "fileSize": 3481920,
            },
            "user_id": "7c1e4b2a-0d3f-4a6b-9e8c-1f2a3b4c5d6e",
            "updated_at": "2026-11-20T14:04:02Z",
        }
    )

    text_prompt: str
    style: str | None = None
    progress_step: str | None = Field(
        None,
        description="The pipeline step running now; `Queued` while the video waits for a slot"
        " at the video provider (see `queue_position`).",
    )
    progress_percent: int = Field(
        default=0, ge=0, le=100, description="Never decreases while the video runs"
    )
    queue_position: int | None = Field(
        None, description="1 = next to start, while `progress_step` is `Queued`."
    )
    poll_after_seconds: int | None = Field(
        default=None, description="While the video runs: wait this long before polling again"
    )
    error_message: str | None = None
    download_url: str | None = None
    download_url_expires_in: int | None = None
    file_size_bytes: int = 0
    download_count: int = 0
    view_count: int = 0
    generation_cost_credits: int = 0
    metadata: RenderedVideoMetadata | None = None
    formats: list[FormatOut] = Field(
        default_factory=list,
        description="Every rendered format with its own download and thumbnail URLs (1 h), "
        "the main one first; empty until Completed.",
        json_schema_extra=bounded_list("at most 4: the formats one request may ask for"),
    )
    user_id: uuid.UUID
    updated_at: UtcDateTime | None = None


class VideoPage(Schema):
    items: list[VideoSummary]
    next_cursor: str | None = None


class UploadRequest(_Request):
    model_config = _examples(
        {"content_type": "image/jpeg", "size_bytes": 2400000, "filename": "aero-runner-white.jpg"}
    )

    content_type: ImageContentType | AudioContentType = Field(
        description="An image (JPEG, PNG, WebP; up to 10 MB) or, for a music bed, audio "
        "(MP3, M4A/AAC, WAV, Ogg; up to 20 MB)"
    )
    size_bytes: int = Field(gt=0)
    filename: Annotated[str, StringConstraints(max_length=200)] | None = None


class UploadTicket(Schema):
    upload_url: str
    upload_key: str
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str]
    expires_in: int
    max_bytes: int


class GrantOut(Schema):
    id: uuid.UUID
    source: str
    amount: int
    used_amount: int
    remaining: int
    expires_at: UtcDateTime | None = None
    is_active: bool
    created_at: UtcDateTime


class MovementOut(Schema):
    id: uuid.UUID
    kind: str
    amount: int
    video_id: uuid.UUID | None = None
    usage_credit_id: uuid.UUID
    reference: str | None = None
    created_at: UtcDateTime


class CreditsOut(Schema):
    model_config = _examples(
        {
            "balance": 99,
            "movements": [
                {
                    "id": "e8d7c6b5-a4f3-4e2d-9c1b-0a9f8e7d6c5b",
                    "kind": "Charge",
                    "amount": 1,
                    "video_id": "5b0f2a8e-3c41-4d7a-9e62-8f1d0c7b4a93",
                    "usage_credit_id": "c3a9e1f0-6b2d-4e8a-8f7c-2d1b0a9e8f7c",
                    "reference": None,
                    "created_at": "2026-11-20T14:04:02Z",
                },
                {
                    "id": "0f1e2d3c-4b5a-4968-8776-655443322110",
                    "kind": "Grant",
                    "amount": 100,
                    "video_id": None,
                    "usage_credit_id": "c3a9e1f0-6b2d-4e8a-8f7c-2d1b0a9e8f7c",
                    "reference": "sub_1QxLampPro",
                    "created_at": "2026-11-20T09:12:44Z",
                },
            ],
            "next_cursor": None,
        }
    )

    balance: int
    movements: list[MovementOut]
    next_cursor: str | None = Field(
        None, description="Continues `movements` (pass it as `cursor`); null on the last page."
    )


class GrantsPage(Schema):
    """``GET /v1/credits/grants``: the grants behind the balance, newest first."""

    model_config = _examples(
        {
            "items": [
                {
                    "id": "c3a9e1f0-6b2d-4e8a-8f7c-2d1b0a9e8f7c",
                    "source": "Subscription",
                    "amount": 100,
                    "used_amount": 1,
                    "remaining": 99,
                    "expires_at": "2026-12-20T00:00:00Z",
                    "is_active": True,
                    "created_at": "2026-11-20T09:12:44Z",
                }
            ],
            "next_cursor": None,
        }
    )

    items: list[GrantOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor`; null on the last page.")
