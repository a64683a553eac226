"""Finalize's plan conforming (media/conform.py): what a provider's 5 s video costs to fit a plan.

Cases: a 1080x1920 clip scaled to 720p with the watermark (Free plan, Freepik output), a
720x1280 clip watermarked only (Free plan, Local output), and a fitting clip without watermark
(no re-encode). Prints wall and process CPU time per case and the machine's load.

    .venv/bin/python bench/conform_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "core" / "python"))

import av
from PIL import Image, ImageDraw

from ecomvideo.media.conform import OutputLimits, conform

SECONDS, FPS = 5, 30


def clip(path: Path, width: int, height: int) -> Path:
    """A moving, busy 5 s H.264 clip (a flat one would flatter the encoder)."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        base = Image.radial_gradient("L").resize((width, height)).convert("RGB")
        for i in range(SECONDS * FPS):
            img = base.copy()
            draw = ImageDraw.Draw(img)
            x = (i * 7) % width
            draw.rectangle((x, height // 3, x + width // 5, height // 2), fill=(200, 40, 40))
            frame = av.VideoFrame.from_image(img)
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cases = [
        ("1080x1920 -> 720p + watermark", (1080, 1920), OutputLimits(1280, "EcomVideo")),
        ("720x1280 watermark only", (720, 1280), OutputLimits(1280, "EcomVideo")),
        ("1080x1920 fits, no watermark", (1080, 1920), OutputLimits(1920, None)),
    ]
    print(f"load average {os.getloadavg()[0]:.1f}; {SECONDS} s at {FPS} fps; best of {args.repeat}")
    print("| case | wall | CPU |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (w, h), limits in cases:
            source = clip(Path(tmp) / f"{w}x{h}.mp4", w, h)
            best = (float("inf"), float("inf"))
            for _ in range(args.repeat):
                target = Path(tmp) / "out.mp4"
                target.unlink(missing_ok=True)
                wall, cpu = time.perf_counter(), time.process_time()
                conform(source, target, limits)
                best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
            print(f"| {name} | {best[0]:.2f} s | {best[1]:.2f} s |")


if __name__ == "__main__":
    main()
