"""The storyboard composed around a provider's generated clip (Finalize, before storing).

A provider with ``clips = True`` (Freepik) answers GenerateVideo with an image-to-video clip of
the length of the storyboard's hero scene. Finalize then renders the video's storyboard with
the Local composer, the clip as its ``generated_clip`` (hero) scene and every other scene
(hook, features, social proof, price, end card) from the photos and texts as for Local videos;
the other formats (``video_formats``) get the same clip cropped for their frame.

Resumable per scene: each scene is encoded on its own into the video's S3 segments
(``scene_segments``), keyed by what its frames depend on (the clip by content), so a retried
Finalize re-encodes nothing it already encoded. A clip that was not downloaded
(``CLIP_MISSING``), is gone from S3 or does not decode leaves the hero scene on its photo
(logged), or on the still the clip was made from when it has none (a Text video's generated
image), never a failed video.
"""

from __future__ import annotations

from typing import Any

from ecomvideo.media.storyboard import GENERATED_CLIP
from ecomvideo.observability import logger
from ecomvideo.providers.base import CLIP_MISSING
from ecomvideo.services import scene_segments
from ecomvideo.services.pipeline import assets, steps
from ecomvideo.services.pipeline.results import StepContext, StepFailed, provider_for
from ecomvideo.settings import get_settings

CLIP_KEY = "clipKey"


def composes_clip(ctx: StepContext) -> bool:
    """Whether the video's provider returned a clip that the storyboard is composed around."""
    return bool(getattr(provider_for(ctx.video), "clips", False))


def around_clip(
    ctx: StepContext, rendered: dict[str, Any]
) -> tuple[dict[str, Any], bytes | None, bytes | None]:
    """The video step's output to finalize, the clip and the clip's still (for the formats).

    For a clip provider: the storyboard rendered around the clip (``work/a<n>-story.mp4``, its
    thumbnail and scene timings; ``clipKey`` names the clip's work file, deleted with the
    others). Anything else is returned as it is.
    """
    if rendered.get("scenes") or not composes_clip(ctx):
        return rendered, None, None
    # lazy: the provider registry (PyAV, Pillow renderers) loads only in the worker's steps
    from ecomvideo.media.formats import frame_size
    from ecomvideo.providers import VideoRequest, get_provider

    video, attempt = ctx.video, ctx.message.attempt
    clip = _clip(rendered)
    local = get_provider("Local")
    board, images, music = steps.storyboard_for(ctx, local)
    still = _still(ctx, board)
    width, height = frame_size(video.aspect_ratio, video.resolution)
    result = local.start_video(
        VideoRequest(
            storyboard=board,
            images=images,
            clip=clip,
            clip_still=still,
            segments=scene_segments.S3Segments(video),
            prompt=video.text_prompt,
            duration_seconds=float(video.duration_seconds),
            aspect_ratio=video.aspect_ratio,
            width=width,
            height=height,
            title=video.title,
            style=video.style,
            reference=f"{video.id}:{attempt}:story",
            music=music,
        )
    )
    output: dict[str, Any] = {
        "videoKey": assets.asset_key(video, f"work/a{attempt}-story.mp4"),
        "scenes": list(result.metadata.get("scenes") or []),
    }
    if result.metadata.get("music"):
        output["music"] = result.metadata["music"]
    assets.put_asset(video.id, attempt, output["videoKey"], bytes(result.asset or b""), "video/mp4")
    if result.thumbnail:
        output["thumbnailKey"] = assets.asset_key(video, f"work/a{attempt}-story-thumb.jpg")
        assets.put_asset(
            video.id, attempt, output["thumbnailKey"], bytes(result.thumbnail), "image/jpeg"
        )
    if rendered.get("videoKey"):
        output[CLIP_KEY] = rendered["videoKey"]
    return output, clip, still


def _still(ctx: StepContext, board: dict[str, Any] | None) -> bytes | None:
    """The still the clip was made from (a Text video's generated image), when the clip scene
    has no photo of its own to fall back to; ``None`` otherwise or when it is gone."""
    scenes = (board or {}).get("scenes") or []
    scene = next((s for s in scenes if s.get("media") == GENERATED_CLIP), None)
    if scene is None or scene.get("image") is not None:
        return None
    try:
        return assets.source_image(ctx)
    except StepFailed:
        return None


def _clip(rendered: dict[str, Any]) -> bytes | None:
    """The clip's bytes from the video step's work file; ``None`` (logged) when there is none."""
    if rendered.get(CLIP_MISSING) or not rendered.get("videoKey"):
        logger.warning(
            "no generated clip: the hero scene shows the product photo",
            extra={"reason": rendered.get(CLIP_MISSING) or "no clip file"},
        )
        return None
    data = scene_segments.read_optional(get_settings().videos_bucket, rendered["videoKey"])
    if data is None:
        logger.warning(
            "generated clip gone from S3: the hero scene shows the product photo",
            extra={"key": rendered["videoKey"]},
        )
    return data
