"""A provider's generated clip as the hero scene of a storyboard: fitting, cropping, fallback."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import pytest
from PIL import ImageChops, ImageStat

from ecomvideo.media import storyboard as sb
from ecomvideo.media.clip_source import ClipError, ClipSource
from ecomvideo.media.render import RenderSpec
from ecomvideo.media.storyboard_render import render_storyboard
from ecomvideo.providers import VideoRequest
from ecomvideo.providers.local import LocalProvider
from tests.fakes.freepik_fake import SUBJECT_COLOUR, clip_colour, sample_mp4
from tests.support.logs import captured_logs, log_records
from tests.unit.media.fixtures_storyboard import STORY
from tests.unit.media.fixtures_storyboard import pictures as _pictures
from tests.unit.media.helpers_media import decode, photo_bytes
from tests.unit.media.test_storyboard_render import _CountingStore


def _close(a, b, tolerance: float = 14) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=False))


def test_a_longer_clip_is_trimmed_at_its_own_speed():
    clip = ClipSource.open(sample_mp4(64, 64, seconds=2, fps=24))  # 48 frames
    assert len(clip.times) == 48 and clip.duration == pytest.approx(2)

    shown = clip.fit(30, 30)  # one second at 30 fps

    assert shown[0] == 0 and shown[-1] == 23  # the first second, the rest is cut
    assert shown == sorted(shown) and len(set(shown)) == 24  # 24 fps in 30: some repeat


def test_a_shorter_clip_plays_once_then_holds_its_last_frame():
    clip = ClipSource.open(sample_mp4(64, 64, seconds=2, fps=24))

    shown = clip.fit(90, 30)  # three seconds

    assert shown[:60] == sorted(shown[:60]) and len(set(shown[:60])) == 48  # every frame once
    assert set(shown[60:]) == {47}  # then the last frame, never backwards


def test_one_reader_serves_two_threads_the_frames_each_asks_for():
    """With scene segments, the next scene's encoder thread asks a clip scene for its last frame
    while that scene's own thread decodes forward: the reader must give each the right frame
    (it used to be closed under the other thread's decoder: TypeError or a crash in PyAV)."""
    from concurrent.futures import ThreadPoolExecutor

    clip = ClipSource.open(sample_mp4(64, 64, seconds=2, fps=24))
    reader = clip.reader()
    last = len(clip.times) - 1

    def forward(_: int) -> list[tuple[int, int, int]]:
        return [reader.frame(i).getpixel((2, 2)) for i in range(1, last + 1)]

    def last_frame(_: int) -> list[tuple[int, int, int]]:
        return [reader.frame(last).getpixel((2, 2)) for _ in range(40)]

    alone = [clip.reader().frame(i).getpixel((2, 2)) for i in range(1, last + 1)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(5):
            seq, ends = pool.map(lambda f: f(0), [forward, last_frame])
            assert seq == alone
            assert set(ends) == {alone[-1]}


@pytest.mark.parametrize("data", [b"", b"not a video at all", sample_mp4(64, 64)[:400]])
def test_a_clip_that_does_not_decode_is_refused_before_rendering(data):
    with pytest.raises(ClipError):
        ClipSource.open(data)


def _hero(board: sb.Storyboard) -> int:
    return next(i for i, s in enumerate(board.scenes) if s.media == sb.GENERATED_CLIP)


def test_the_hero_scene_shows_the_clip_and_the_other_scenes_are_composed_around_it():
    board = sb.build(STORY, 8, clip=True)
    clip = ClipSource.open(sample_mp4(360, 640, seconds=5, fps=24))  # 120 frames, longer
    k = _hero(board)

    video = render_storyboard(board, _pictures(), RenderSpec(180, 320, board.duration), clip=clip)

    timing = video.scenes[k]
    assert [s["media"] for s in video.scenes].count("generated_clip") == 1
    assert timing["media"] == "generated_clip" and board.scenes[k].kind == "hero"
    assert {s["media"] for j, s in enumerate(video.scenes) if j != k} <= {"product_image"}
    start, n = round(timing["start"] * 30), timing["frames"]
    mids = [round(s["start"] * 30) + s["frames"] // 2 for s in video.scenes]
    out = decode(video.mp4, keep=(start + n // 2, start + n - 1, *mids))
    shown = clip.fit(n, 30)
    for frame, index in zip(out.frames[:2], (n // 2, n - 1), strict=True):
        top = ImageStat.Stat(frame.crop((20, 30, 160, 110))).mean  # clear of the text
        assert _close(top, clip_colour(shown[index], 120)), (index, top)
    # Trimmed: the hero ends long before the clip does (its last frame is not shown).
    assert shown[-1] < 100
    # Every scene is there: consecutive scenes differ (cuts by frame difference).
    for a, b in pairwise(out.frames[2:]):
        assert ImageStat.Stat(ImageChops.difference(a, b).convert("L")).mean[0] > 6


@pytest.mark.parametrize("size", [(180, 320), (180, 180), (320, 180)])
def test_the_clip_is_cropped_around_its_subject_for_every_format(size):
    # A landscape clip whose subject (a green disc) sits near the right edge.
    clip = ClipSource.open(sample_mp4(640, 360, seconds=1, fps=12, subject=(0.8, 0.4)))
    board = sb.build(STORY, 5, clip=True)
    k = _hero(board)

    video = render_storyboard(board, _pictures(), RenderSpec(*size, board.duration), clip=clip)

    timing = video.scenes[k]
    (frame,) = decode(video.mp4, keep=(round(timing["start"] * 30) + timing["frames"] // 2,)).frames
    w, h = size
    green = [
        x
        for x in range(0, w, 2)
        for y in range(0, h // 2, 2)
        if _close(frame.getpixel((x, y))[:3], SUBJECT_COLOUR, 40)
    ]
    assert green, "the subject is in the frame"
    # Kept in the frame and away from its edges (a centre crop would cut it off in 9:16).
    assert w * 0.2 < sum(green) / len(green) < w * 0.95


def test_a_clip_scene_without_a_usable_clip_shows_its_photo_and_says_so():
    board = sb.build(STORY, 5, clip=True)
    local = LocalProvider()
    request = VideoRequest(
        storyboard=board.to_dict(),
        images=(photo_bytes(), photo_bytes(), photo_bytes(), photo_bytes()),
        clip=b"\x00\x00\x00\x18ftypmp42 broken",
        prompt="",
        duration_seconds=5,
        aspect_ratio="9:16",
        width=180,
        height=320,
        reference="v:1:story",
    )

    with captured_logs() as stream:
        result = local.start_video(request)

    media = [s["media"] for s in result.metadata["scenes"]]
    assert "generated_clip" not in media and media[_hero(board)] == "product_image"
    warned = [
        r for r in log_records(stream.getvalue()) if r["message"].startswith("generated clip")
    ]
    assert len(warned) == 1 and warned[0]["reference"] == "v:1:story"


def test_a_clip_scene_without_clip_or_photo_is_a_designed_card():
    story = sb.StoryInput(title="Aurora lamp", price="$49")  # a Text prompt: no photos
    board = sb.build(story, 5, clip=True)

    video = render_storyboard(board, {}, RenderSpec(180, 320, board.duration), clip=None)

    assert video.scenes[_hero(board)]["media"] == "design"


def test_scene_segments_are_keyed_by_the_clip_so_a_new_clip_re_encodes_only_its_scenes():
    board = sb.build(STORY, 6, clip=True)
    pictures = _pictures()
    spec = RenderSpec(180, 320, board.duration)
    first = ClipSource.open(sample_mp4(180, 320, seconds=2, fps=12))
    other = ClipSource.open(sample_mp4(180, 320, seconds=3, fps=12))
    store = _CountingStore()

    render_storyboard(board, pictures, spec, clip=first, segments=store)
    assert len(store.written) == len(board.scenes)
    render_storyboard(board, pictures, spec, clip=first, segments=store)
    assert len(store.written) == len(board.scenes)  # a retry: every scene reused
    render_storyboard(board, pictures, spec, clip=other, segments=store)

    # The clip's scene and the one blending from its last frame; nothing else.
    assert len(store.written) == len(board.scenes) + 2


def test_a_storyboard_for_a_clip_provider_keeps_its_clip_scene_however_short():
    for seconds in (3, 5, 15, 30):
        board = sb.build(STORY, seconds, clip=True)
        assert [s.media for s in board.scenes].count(sb.GENERATED_CLIP) == 1, seconds
    # A template without a hero slot gets one, after the hook.
    board = sb.build(
        STORY, 10, {"slots": [{"kind": "hook"}, {"kind": "price"}, {"kind": "cta"}]}, clip=True
    )
    assert [(s.kind, s.media) for s in board.scenes][:2] == [
        ("hook", "product_image"),
        ("hero", "generated_clip"),
    ]
    # Without a clip provider nothing changes: no scene names a clip.
    assert sb.GENERATED_CLIP not in {s.media for s in sb.build(STORY, 10).scenes}


def test_a_split_layout_hero_plays_the_clip_in_its_picture_area_over_the_designed_canvas():
    board = sb.build(STORY, 5, clip=True)
    k = _hero(board)
    scenes = list(board.scenes)
    scenes[k] = replace(scenes[k], layout="split")
    board = replace(board, scenes=tuple(scenes))
    clip = ClipSource.open(sample_mp4(180, 320, seconds=2, fps=12))

    video = render_storyboard(board, _pictures(), RenderSpec(180, 320, board.duration), clip=clip)

    timing = video.scenes[k]
    assert timing["media"] == "generated_clip"
    i = timing["frames"] // 2
    (frame,) = decode(video.mp4, keep=(round(timing["start"] * 30) + i,)).frames
    picture = ImageStat.Stat(frame.crop((20, 20, 160, 160))).mean  # the upper 58 %: the clip
    below = ImageStat.Stat(frame.crop((0, 300, 180, 320))).mean  # the palette's canvas
    expected = clip_colour(clip.fit(timing["frames"], 30)[i], 24)
    assert _close(picture, expected), (picture, expected)
    assert not _close(below, expected, 30)


def test_without_clip_or_photo_the_clip_scene_shows_the_still_the_clip_was_made_from():
    story = sb.StoryInput(title="Aurora lamp", price="$49")  # a Text prompt: no photos
    board = sb.build(story, 5, clip=True)
    request = VideoRequest(
        storyboard=board.to_dict(),
        clip=b"not a clip",
        clip_still=photo_bytes((360, 640)),  # the generated image: a red disc
        prompt="",
        duration_seconds=5,
        aspect_ratio="9:16",
        width=180,
        height=320,
    )

    result = LocalProvider().start_video(request)

    timing = result.metadata["scenes"][_hero(board)]
    assert timing["media"] == "generated_image"
    (frame,) = decode(
        result.asset, keep=(round(timing["start"] * 30) + timing["frames"] // 2,)
    ).frames
    r, g, b = ImageStat.Stat(frame.crop((70, 130, 110, 170))).mean  # the disc, mid-frame
    assert r > 150 and g < 90 and b < 90, (r, g, b)
    # With a photo of its own the scene keeps the photo (the still is not used).
    with_photo = sb.build(STORY, 5, clip=True)
    request = replace(request, storyboard=with_photo.to_dict(), images=(photo_bytes(),))
    scenes = LocalProvider().start_video(request).metadata["scenes"]
    assert scenes[_hero(with_photo)]["media"] == "product_image"
