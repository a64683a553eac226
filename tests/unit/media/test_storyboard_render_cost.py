"""What a storyboard render costs: each scene is prepared once, whatever the encoding mode."""

from __future__ import annotations

from collections import Counter

import pytest

from ecomvideo.media import storyboard as sb
from ecomvideo.media.render import RenderSpec
from ecomvideo.media.segments import MemorySegments
from ecomvideo.media.storyboard_render import _Composer, render_storyboard
from tests.unit.media.fixtures_storyboard import STORY, pictures


@pytest.mark.parametrize("mode", ["one pass", "segments", "segments already stored"])
def test_each_scene_is_prepared_once_per_render(mode, monkeypatch):
    board = sb.build(STORY, 6)
    spec = RenderSpec(180, 320, board.duration)
    store = MemorySegments()
    if mode == "segments already stored":
        render_storyboard(board, pictures(), spec, segments=store)
    prepared: Counter[int] = Counter()
    real_scene = _Composer.scene

    def counting_scene(self, index, scene, n):
        prepared[index] += 1
        return real_scene(self, index, scene, n)

    monkeypatch.setattr(_Composer, "scene", counting_scene)
    video = render_storyboard(
        board, pictures(), spec, segments=None if mode == "one pass" else store
    )

    # The next scene's blend, the thumbnail and the text checks reuse the prepared scene.
    assert prepared == Counter(range(len(board.scenes)))
    assert video.thumbnail[:3] == b"\xff\xd8\xff" and len(video.text_boxes) == len(board.scenes)
