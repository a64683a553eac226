"""What a generated clip costs as the hero scene of a storyboard, against the photo it replaces.

The same 15 s storyboard (the media tests' product, 4 busy photos) rendered twice at 1080x1920,
30 fps: planned without a clip (the hero is a photo with Ken Burns) and planned for a clip
provider (the hero is a synthetic 5 s 1080x1920 24 fps clip, trimmed to the scene). Also the
time to check the clip (``ClipSource.open`` decodes it once).

    .venv/bin/python bench/clip_scene_bench.py
    .venv/bin/python bench/clip_scene_bench.py --size 720x1280 --seconds 10

Wall times depend on the machine's load (printed); CPU seconds less so.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "core" / "python"))

from ecomvideo.media import storyboard as sb
from ecomvideo.media.clip_source import ClipSource
from ecomvideo.media.render import RenderSpec
from ecomvideo.media.storyboard_render import render_storyboard
from tests.fakes.freepik_fake import sample_mp4
from tests.unit.media.fixtures_storyboard import STORY, busy_photo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1080x1920")
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    pictures = {i: busy_photo((width, width * 4 // 3), i) for i in range(4)}
    data = sample_mp4(width, height, seconds=5, fps=24, subject=(0.5, 0.4))
    print(f"{width}x{height}, {args.seconds:g} s at 30 fps, load {os.getloadavg()[0]:.1f}")
    print("hero        | check clip wall/CPU s | render wall/CPU s | hero s")
    for clip in (False, True):
        board = sb.build(STORY, args.seconds, clip=clip)
        t0, c0 = time.perf_counter(), time.process_time()
        source = ClipSource.open(data) if clip else None
        t1, c1 = time.perf_counter(), time.process_time()
        spec = RenderSpec(width, height, board.duration)
        video = render_storyboard(board, pictures, spec, clip=source)
        t2, c2 = time.perf_counter(), time.process_time()
        hero = next(s for s in video.scenes if s["kind"] == "hero")
        print(
            f"{'clip' if clip else 'photo':11} | {t1 - t0:6.2f} / {c1 - c0:5.2f}"
            f"         | {t2 - t1:6.2f} / {c2 - c1:5.2f}   | {hero['duration']:g}"
        )
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
