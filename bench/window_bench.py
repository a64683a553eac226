"""Ken Burns window resize: Pillow's fractional BOX (the previous path) against swscale windows.

One 1080x1920 yuv420p frame per call from a busy photo prepared as the storyboard renderer
does, over 20 windows of a zoom-and-drift move: CPU ms per frame, luma/chroma PSNR of each
swscale filter's frames against Pillow BOX's, and detail (standard deviation of a Laplacian,
higher = sharper).

    .venv/bin/python bench/window_bench.py
    .venv/bin/python bench/window_bench.py --filters area,bicubic,lanczos --repeat 3
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "core" / "python"))

import av
from PIL import Image, ImageChops, ImageFilter, ImageStat

from ecomvideo.media import window
from ecomvideo.media.planes import Planes, plane_image
from ecomvideo.media.render import MAX_ZOOM
from tests.unit.media.fixtures_storyboard import busy_photo

SIZE = (1080, 1920)


def psnr(a: Image.Image, b: Image.Image) -> float:
    hist = ImageChops.difference(a, b).histogram()
    mse = sum(count * value * value for value, count in enumerate(hist)) / (a.width * a.height)
    return 10 * math.log10(255**2 / max(mse, 1e-9))


def detail(img: Image.Image) -> float:
    laplacian = ImageFilter.Kernel((3, 3), [0, -1, 0, -1, 4, -1, 0, -1, 0], 1, 128)
    return ImageStat.Stat(img.filter(laplacian)).stddev[0]


def windows(source: tuple[int, int]) -> list[tuple[float, float, float, float]]:
    w, h = source
    out = []
    for k in range(20):
        zoom = 1 + (MAX_ZOOM - 1) * k / 19
        bw, bh = w / zoom, h / zoom
        left, top = (w - bw) * (0.01 + 0.7 * k / 19), (h - bh) * 0.3 + 0.011 * k
        out.append((left, top, left + bw, top + bh))
    return out


def pillow_box(picture: Image.Image) -> tuple[object, ...]:
    """The previous path: full-size Y, U, V planes, each window resized per plane (BOX)."""
    frame = av.VideoFrame.from_image(picture).reformat(format="yuv444p")
    y, u, v = (plane_image(p, (0, 0, *picture.size)) for p in frame.planes)
    box = Image.Resampling.BOX
    w, h = SIZE

    def resize(b: tuple[float, float, float, float]) -> Planes:
        return Planes(
            y.resize((w, h), box, box=b),
            u.resize((w // 2, h // 2), box, box=b),
            v.resize((w // 2, h // 2), box, box=b),
        )

    return (resize,)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filters", default="area,bicubic,lanczos")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    scale = MAX_ZOOM * window.SOURCE_MARGIN
    picture = busy_photo((round(SIZE[0] * scale), round(SIZE[1] * scale)), 2)
    boxes = windows(picture.size)
    (resize,) = pillow_box(picture)

    def timed(make) -> tuple[float, list[Planes]]:
        make(boxes[0])
        best, frames = math.inf, []
        for _ in range(args.repeat):
            c0 = time.process_time()
            frames = [make(b) for b in boxes]
            best = min(best, (time.process_time() - c0) / len(boxes) * 1000)
        return best, frames

    ms, reference = timed(resize)
    print(f"{'resize':<22}{'CPU ms':>8}{'luma dB':>9}{'chroma dB':>10}{'detail':>8}")
    sharp = sum(detail(f.y) for f in reference) / len(reference)
    print(f"{'Pillow BOX (before)':<22}{ms:>8.2f}{'-':>9}{'-':>10}{sharp:>8.2f}")
    real_flags = window.SCALE_FLAGS
    try:
        for name in args.filters.split(","):
            window.SCALE_FLAGS = name
            scaler = window.WindowScaler(picture, SIZE, "yuv420p")
            ms, frames = timed(scaler.planes)
            luma = min(psnr(f.y, r.y) for f, r in zip(frames, reference, strict=True))
            chroma = min(
                min(psnr(f.u, r.u), psnr(f.v, r.v)) for f, r in zip(frames, reference, strict=True)
            )
            sharp = sum(detail(f.y) for f in frames) / len(frames)
            print(f"{'swscale ' + name:<22}{ms:>8.2f}{luma:>9.1f}{chroma:>10.1f}{sharp:>8.2f}")
    finally:
        window.SCALE_FLAGS = real_flags


if __name__ == "__main__":
    main()
