"""Local provider render speed: 5 s videos at 1080x1920 and 720x1280.

Prints, per case, wall time, process CPU time and the ratio to realtime (render time / video
length: below 1.0 is faster than realtime), plus a per-frame split between composing frames
(Pillow) and converting+encoding (swscale + libx264).

    .venv/bin/python bench/render_bench.py             # all vCPUs of this machine
    .venv/bin/python bench/render_bench.py --cores 1   # pinned to one core (Lambda < 1.8 GB)

Wall times on a shared machine depend on its load (printed); CPU time is the steadier number.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "core" / "python"))

import av
from PIL import Image, ImageDraw

from ecomvideo.media.design import pick_palette
from ecomvideo.media.overlay import render_overlay
from ecomvideo.media.render import RenderSpec, _FrameSource, choose_fit, render_video
from ecomvideo.media.titlecard import CardText, render_title_card

DURATION = 5.0


def photo(size: tuple[int, int]) -> Image.Image:
    """A busy synthetic product photo (busy pictures cost the encoder more than flat ones)."""
    w, h = size
    img = Image.radial_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(img)
    for i in range(0, w, max(8, w // 40)):
        draw.line([(i, 0), (w - i, h)], fill=(40 + i % 200, 90, 160), width=3)
    draw.ellipse((w * 0.2, h * 0.25, w * 0.8, h * 0.7), fill=(210, 50, 60))
    return img


def split(picture: Image.Image, spec: RenderSpec, overlay) -> tuple[float, float]:
    """(compose ms/frame, convert+encode ms/frame), measured separately on one thread."""
    fit = choose_fit(picture, (spec.width, spec.height))
    frames = _FrameSource(picture, spec, overlay, fit, "zoom_in")
    t = time.perf_counter()
    images = [frames.frame(i) for i in range(30)]
    compose = (time.perf_counter() - t) / 30 * 1000
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream(
            "libx264", rate=spec.fps, options={"preset": spec.preset, "crf": str(spec.crf)}
        )
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        t = time.perf_counter()
        for i, img in enumerate(images):
            frame = av.VideoFrame.from_image(img).reformat(format="yuv420p")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        encode = (time.perf_counter() - t) / 30 * 1000
    return compose, encode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=0, help="pin to N cores (0 = all)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per case (best is shown)")
    args = parser.parse_args()
    if args.cores:
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.cores]))
    cores = len(os.sched_getaffinity(0))
    print(
        f"PyAV {av.__version__}, Pillow {Image.__version__}, cores={cores}, "
        f"load={os.getloadavg()[0]:.2f}, libx264 preset=veryfast crf=23, 30 fps, {DURATION} s"
    )
    header = (
        f"{'case':<34}{'wall s':>8}{'cpu s':>8}{'x realtime':>12}"
        f"{'compose ms/f':>14}{'encode ms/f':>13}{'MB':>7}"
    )
    print(header)
    print("-" * len(header))
    for w, h in ((1080, 1920), (720, 1280)):
        spec = RenderSpec(w, h, DURATION)
        overlay = render_overlay(
            (w, h),
            title="Aurora Smart Lamp",
            price="$49.99",
            call_to_action="Shop now",
            palette=pick_palette("ocean"),
        )
        cases = {
            f"{w}x{h} photo, cover": (photo((w + 100, h + 150)), overlay),
            f"{w}x{h} square photo, contain": (photo((1200, 1200)), overlay),
            f"{w}x{h} title card (Text input)": (
                render_title_card((w, h), CardText("Aurora Smart Lamp", "$49.99")),
                None,
            ),
        }
        for name, (picture, ov) in cases.items():
            best = None
            for _ in range(args.repeat):
                c0, t0 = time.process_time(), time.perf_counter()
                video = render_video(picture, spec, ov)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                if best is None or wall < best[0]:
                    best = (wall, cpu, len(video.mp4))
            assert best is not None
            compose, encode = split(picture, spec, ov)
            print(
                f"{name:<34}{best[0]:>8.2f}{best[1]:>8.2f}{best[0] / DURATION:>12.2f}"
                f"{compose:>14.1f}{encode:>13.1f}{best[2] / 1e6:>7.2f}"
            )


if __name__ == "__main__":
    main()
