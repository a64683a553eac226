"""Storyboard render speed against a bare PyAV encode of the same frames, side by side.

A 15 s, 8-scene storyboard (4 busy product photos) at 1080x1920, 30 fps, rendered by
``render_storyboard`` (compose on a helper thread while libx264 encodes, static frames reused);
then the *same frames* (the composer called again, outside the clock) converted and encoded by a
bare PyAV loop with the same preset/CRF (only ``from_image`` + ``reformat`` + ``encode`` timed).

    .venv/bin/python bench/storyboard_bench.py                   # 1080x1920, 15 s
    .venv/bin/python bench/storyboard_bench.py --size 720x1280 --presets veryfast,faster
    .venv/bin/python bench/storyboard_bench.py --cores 2
    .venv/bin/python bench/storyboard_bench.py --segments        # scene by scene, joined

Columns: wall/CPU seconds, wall / video length (target <= 0.5 on 2 vCPUs), ratio to the bare
encode (target <= 1.3), output size, luma PSNR of the output against the composed frames (the
quality side of the preset/CRF choice). Wall times depend on the machine's load (printed).
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "core" / "python"))

import av
from PIL import Image, ImageChops

from ecomvideo.media import storyboard as sb
from ecomvideo.media.render import RenderSpec
from ecomvideo.media.segments import MemorySegments
from ecomvideo.media.storyboard_render import (
    _Composer,
    _frame_counts,
    board_palette,
    render_storyboard,
)
from tests.unit.media.fixtures_storyboard import STORY, busy_photo


def bare_encode(board: sb.Storyboard, pictures, spec: RenderSpec) -> tuple[float, int]:
    """Seconds spent converting + encoding the storyboard's frames (composition not timed)."""
    composer = _Composer(
        board, pictures, (spec.width, spec.height), spec.fps, board_palette(board, pictures)
    )
    out = io.BytesIO()
    spent = 0.0
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream(
            "libx264",
            rate=spec.fps,
            options={"preset": spec.preset, "crf": str(spec.crf), "profile": "high"},
        )
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        index = 0
        counts = _frame_counts(board, spec.fps)
        for k, (scene, n) in enumerate(zip(board.scenes, counts, strict=True)):
            source = composer.scene(k, scene, n)
            for i in range(n):
                img = source.frame(i)
                t = time.perf_counter()
                frame = av.VideoFrame.from_image(img).reformat(format="yuv420p")
                frame.pts, frame.time_base = index, Fraction(1, spec.fps)
                container.mux(stream.encode(frame))
                spent += time.perf_counter() - t
                index += 1
        t = time.perf_counter()
        container.mux(stream.encode(None))
        spent += time.perf_counter() - t
    return spent, len(out.getvalue())


def luma_psnr(mp4: bytes, board: sb.Storyboard, pictures, spec: RenderSpec) -> float:
    """PSNR (dB, luma) of the encoded video against the composed frames, at the quarter points
    of every scene (clear of transitions and of the final fade)."""
    counts = _frame_counts(board, spec.fps)
    composer = _Composer(
        board, pictures, (spec.width, spec.height), spec.fps, board_palette(board, pictures)
    )
    wanted: dict[int, Image.Image] = {}
    start = 0
    for k, (scene, n) in enumerate(zip(board.scenes, counts, strict=True)):
        source = composer.scene(k, scene, n)
        for i in (n // 4, n // 2, 3 * n // 4):
            wanted[start + i] = source.frame(i).convert("L")
        start += n
    wanted.pop(max(wanted))  # the last scene's last quarter may be inside the fade out
    squared, pixels = 0.0, 0
    with av.open(io.BytesIO(mp4)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            original = wanted.get(index)
            if original is None:
                continue
            hist = ImageChops.difference(frame.to_image().convert("L"), original).histogram()
            squared += sum(count * value * value for value, count in enumerate(hist))
            pixels += original.width * original.height
    return 10 * math.log10(255**2 / max(squared / pixels, 1e-9))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1080x1920")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--presets", default="veryfast", help="comma-separated x264 presets")
    parser.add_argument("--crf", type=int, default=23)
    parser.add_argument("--cores", type=int, default=0, help="pin to N cores (0 = all)")
    parser.add_argument(
        "--segments",
        action="store_true",
        help="encode scene by scene and join (what the pipeline does: per-scene resume)",
    )
    args = parser.parse_args()
    if args.cores:
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.cores]))
    w, h = (int(v) for v in args.size.split("x"))
    board = sb.build(STORY, args.seconds)
    pictures = {i: busy_photo((1200 + 100 * i, 1200), i) for i in range(4)}
    print(
        f"PyAV {av.__version__}, Pillow {Image.__version__}, "
        f"cores={len(os.sched_getaffinity(0))}, load={os.getloadavg()[0]:.2f}, "
        f"{w}x{h}, {args.seconds:g} s, 30 fps, crf={args.crf}, {len(board.scenes)} scenes"
        f"{', scene segments' if args.segments else ''}"
    )
    header = (
        f"{'preset':<10}{'wall s':>8}{'cpu s':>8}{'x realtime':>12}"
        f"{'bare enc s':>12}{'vs bare':>9}{'MB':>7}{'PSNR dB':>9}"
    )
    print(header)
    print("-" * len(header))
    for preset in args.presets.split(","):
        spec = RenderSpec(w, h, board.duration, preset=preset, crf=args.crf)
        c0, t0 = time.process_time(), time.perf_counter()
        store = MemorySegments() if args.segments else None
        video = render_storyboard(board, pictures, spec, segments=store)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        bare, _ = bare_encode(board, pictures, spec)
        print(
            f"{preset:<10}{wall:>8.2f}{cpu:>8.2f}{wall / args.seconds:>12.2f}"
            f"{bare:>12.2f}{wall / bare:>9.2f}{len(video.mp4) / 1e6:>7.2f}"
            f"{luma_psnr(video.mp4, board, pictures, spec):>9.2f}"
        )


if __name__ == "__main__":
    main()
