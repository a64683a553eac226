"""Ken Burns windows scaled by swscale: placed to a fraction of a pixel, so moves do not step."""

from __future__ import annotations

import random
import threading

import pytest
from PIL import Image, ImageDraw

from ecomvideo.media.storyboard_render import _KenBurns
from ecomvideo.media.window import SOURCE_MARGIN, WindowScaler, fit_axis


def _centroid(img: Image.Image, box: tuple[int, int, int, int]) -> tuple[float, float]:
    """Brightness-weighted centre (pixel indexes) of what is brighter than ``img``'s corner."""
    px = img.load()
    background = px[0, 0]
    total = sx = sy = 0.0
    for y in range(max(0, box[1]), min(img.height, box[3])):
        for x in range(max(0, box[0]), min(img.width, box[2])):
            v = px[x, y] - background
            if v > 0:
                total += v
                sx += v * x
                sy += v * y
    return sx / total, sy / total


def _marker(size: tuple[int, int], at: tuple[int, int], radius: int) -> Image.Image:
    img = Image.new("RGB", size, (20, 20, 20))
    x, y = at
    ImageDraw.Draw(img).ellipse((x - radius, y - radius, x + radius, y + radius), fill="white")
    return img


@pytest.mark.parametrize("n", [270, 1080, 1920])
def test_a_window_is_placed_to_a_fifth_of_a_pixel_by_whole_pixel_crops(n):
    rng = random.Random(n)
    limit = round(n * 1.12 * SOURCE_MARGIN) + 96
    worst = 0.0
    for _ in range(300):
        span = n * rng.uniform(SOURCE_MARGIN, 1.12 * SOURCE_MARGIN)
        left = rng.uniform(48, limit - 48 - span)

        fit = fit_axis(left, span, n, limit)

        # Output pixel j samples the source at start + (j + offset + 0.5) * length / scaled.
        r = fit.length / fit.scaled
        for j in (0, n // 2, n - 1):
            ideal = left + (j + 0.5) * span / n
            worst = max(worst, abs(fit.start + (j + fit.offset + 0.5) * r - ideal))
        assert fit.scaled - fit.offset >= n and fit.start >= 0 and fit.start + fit.length <= limit
        assert fit.scaled % 2 == 0 and fit.offset % 2 == 0  # yuv420p: chroma stays aligned
    assert worst <= 0.2


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "rgb24"])
def test_the_scaled_window_shows_the_source_where_the_window_says(pix_fmt):
    size = (180, 320)
    source = _marker((230, 400), (110, 190), 12)
    scaler = WindowScaler(source, size, pix_fmt)
    rng = random.Random(7)
    for _ in range(20):
        zoom = rng.uniform(1.0, 1.18)
        w, h = 230 / zoom, 400 / zoom
        left, top = rng.uniform(0, 230 - w), rng.uniform(0, 400 - h)

        box = (left, top, left + w, top + h)
        out = scaler.planes(box).y if pix_fmt == "yuv420p" else scaler.image(box).convert("L")

        sx, sy = w / size[0], h / size[1]
        ideal = ((110.5 - left) / sx - 0.5, (190.5 - top) / sy - 0.5)
        found = _centroid(out, (0, 0, *size))
        assert out.size == size
        assert abs(found[0] - ideal[0]) < 0.12 and abs(found[1] - ideal[1]) < 0.12, (box, found)


@pytest.mark.parametrize("mode", [0, 1, 2])  # zoom in, zoom out, drift
def test_a_ken_burns_move_follows_its_ideal_trajectory_without_steps(mode):
    size = (270, 480)
    photo = _marker((600, 1000), (330, 420), 40)
    frames = _KenBurns(60, 30, Image.new("RGB", size), photo, (0, 0, *size), mode)
    # The marker's centre in the prepared source (pixel indexes).
    mx, my = _centroid(frames.source.convert("L"), (0, 0, *frames.source.size))
    found, ideal = [], []
    for i in range(60):
        left, top, right, bottom = frames._window(i)
        sx, sy = (right - left) / size[0], (bottom - top) / size[1]
        ideal.append(((mx + 0.5 - left) / sx - 0.5, (my + 0.5 - top) / sy - 0.5))
        found.append(_centroid(frames.planes(i).y, (0, 0, *size)))
    errors = [max(abs(f[0] - e[0]), abs(f[1] - e[1])) for f, e in zip(found, ideal, strict=True)]
    assert max(errors) < 0.15
    # Frame to frame the marker moves as the ideal move does: no step, no jitter.
    for k in range(1, 60):
        for axis in (0, 1):
            step = found[k][axis] - found[k - 1][axis]
            ideal_step = ideal[k][axis] - ideal[k - 1][axis]
            assert abs(step - ideal_step) < 0.2, (k, axis, step, ideal_step)
    # The move is real: the marker travels several pixels.
    travel = max(abs(found[-1][a] - found[0][a]) for a in (0, 1))
    assert travel > 3


def test_two_threads_scaling_windows_of_one_scene_get_the_frames_one_thread_gets():
    # Scene segments are encoded side by side: the next scene's thread asks a Ken Burns scene
    # for its last frame while the scene's own thread scales its frames (one filter graph).
    size = (180, 320)
    photo = _marker((300, 500), (150, 200), 30)
    frames = _KenBurns(40, 30, Image.new("RGB", size), photo, (0, 0, *size), 0)
    expected = [frames.planes(i).y.tobytes() for i in range(40)]
    got: dict[int, bytes] = {}

    def scale(indexes: range) -> None:
        for i in indexes:
            got[i] = frames.planes(i).y.tobytes()

    threads = [threading.Thread(target=scale, args=(range(k, 40, 2),)) for k in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [got[i] for i in range(40)] == expected
