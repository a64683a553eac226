"""Storyboard render speed against a bare PyAV encode of the same frames, side by side.

A 15 s, 8-scene storyboard (4 busy product photos) at 1080x1920, 30 fps, rendered by
``render_storyboard`` (composition on a helper thread while libx264 encodes; moving scenes
composed in YUV, static frames reused); then the *same frames* (captured as yuv420p outside
the clock: the frames ``render_storyboard`` hands to the encoder, transitions and fades
included) encoded by a bare PyAV loop with the same libx264 options: only reading the captured
frames and encoding them is timed, so the bare loop is libx264's floor for these frames.

    .venv/bin/python bench/storyboard_bench.py                   # 1080x1920, 15 s
    .venv/bin/python bench/storyboard_bench.py --size 720x1280 --presets veryfast,faster
    .venv/bin/python bench/storyboard_bench.py --x264-params subme=1 --crf 24 --repeat 3
    .venv/bin/python bench/storyboard_bench.py --cores 2
    .venv/bin/python bench/storyboard_bench.py --segments        # scene by scene, joined
    .venv/bin/python bench/storyboard_bench.py --scenes          # composition CPU per scene

Columns: wall and CPU seconds (``getrusage`` of this process, every thread included), wall /
video length (target <= 0.5 on 2 vCPUs), the bare encode's wall and CPU seconds, the render's
wall / the bare encode's wall (target <= 1.3), output size, and the quality side of the
preset/CRF choice: luma PSNR and SSIM (8x8 blocks) of the output against the frames as drawn in
RGB (``frame(i)``) at the quarter points of every scene. Wall times depend on the machine's
load (printed before and after each row).
"""

from __future__ import annotations

import argparse
import io
import math
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers" / "core" / "python"))

import av
from PIL import Image, ImageChops, ImageMath

from ecomvideo.media import storyboard as sb
from ecomvideo.media import storyboard_render
from ecomvideo.media.planes import Planes
from ecomvideo.media.render import RenderSpec, x264_options
from ecomvideo.media.segments import MemorySegments
from ecomvideo.media.storyboard_render import (
    _Composer,
    _frame_counts,
    board_palette,
    render_storyboard,
)
from tests.unit.media.fixtures_storyboard import STORY, busy_photo


def cpu_seconds() -> float:
    """User + system CPU of this process (all its threads) and of its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def capture_frames(board: sb.Storyboard, pictures, spec: RenderSpec, path: str) -> int:
    """Write the yuv420p frames ``render_storyboard`` encodes (one pass) to ``path``."""
    real = storyboard_render.encode_mp4
    count = 0

    def capture(frames: Iterator[Planes], _spec: RenderSpec, *, audio: bool = False) -> bytes:
        nonlocal count
        with open(path, "wb") as fh:
            for planes in frames:
                for plane in (planes.y, planes.u, planes.v):
                    fh.write(plane.tobytes())
                count += 1
        return b""

    storyboard_render.encode_mp4 = capture  # type: ignore[assignment]  # bench swaps the encoder
    try:
        render_storyboard(board, pictures, spec)
    finally:
        storyboard_render.encode_mp4 = real
    return count


def captured(path: str, size: tuple[int, int]) -> Iterator[Planes]:
    """The frames written by ``capture_frames``."""
    w, h = size
    sizes = ((w, h), (w // 2, h // 2), (w // 2, h // 2))
    with open(path, "rb") as fh:
        while chunk := fh.read(w * h * 3 // 2):
            planes, offset = [], 0
            for pw, ph in sizes:
                planes.append(Image.frombytes("L", (pw, ph), chunk[offset : offset + pw * ph]))
                offset += pw * ph
            yield Planes(*planes)


def bare_encode(path: str, spec: RenderSpec) -> tuple[float, float, bytes]:
    """Wall s, CPU s and MP4 of a bare PyAV loop encoding the captured frames at ``path``."""
    out = io.BytesIO()
    c0, t0 = cpu_seconds(), time.perf_counter()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=spec.fps, options=x264_options(spec))
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.codec_context.thread_count = spec.threads
        for index, planes in enumerate(captured(path, (spec.width, spec.height))):
            frame = planes.to_frame()
            frame.pts, frame.time_base = index, Fraction(1, spec.fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return time.perf_counter() - t0, cpu_seconds() - c0, out.getvalue()


def encoder_sweep(path: str, spec: RenderSpec, settings: str, repeat: int) -> None:
    """Bare encodes of the captured frames with each of ``settings``
    ("preset/crf/x264-params;..."): CPU, size and quality against the captured frames (luma
    PSNR over every frame, SSIM every 10th): the rate-distortion side of the choice."""
    print(
        f"{'preset/crf/x264-params':<42}{'load':>6}{'wall s':>8}{'cpu s':>7}{'MB':>7}"
        f"{'PSNR dB':>8}{'SSIM':>8}"
    )
    for setting in settings.split(";"):
        preset, crf, params = setting.split("/")
        spec = replace(spec, preset=preset, crf=int(crf), x264_params=params)
        for _ in range(repeat):
            load = os.getloadavg()[0]
            wall, cpu, mp4 = bare_encode(path, spec)
            squared, pixels, ssims = 0.0, 0, []
            with av.open(io.BytesIO(mp4)) as container:
                decoded_frames = container.decode(video=0)
                frames = zip(decoded_frames, captured(path, (spec.width, spec.height)), strict=True)
                for index, (frame, original) in enumerate(frames):
                    plane = frame.planes[0]
                    decoded = Image.frombytes(
                        "L", original.size, bytes(plane), "raw", "L", plane.line_size
                    )
                    hist = ImageChops.difference(decoded, original.y).histogram()
                    squared += sum(count * value * value for value, count in enumerate(hist))
                    pixels += decoded.width * decoded.height
                    if index % 10 == 5:
                        ssims.append(block_ssim(decoded, original.y))
            psnr = 10 * math.log10(255**2 / max(squared / pixels, 1e-9))
            print(
                f"{setting:<42}{load:>6.1f}{wall:>8.2f}{cpu:>7.2f}{len(mp4) / 1e6:>7.3f}"
                f"{psnr:>8.2f}{sum(ssims) / len(ssims):>8.4f}",
                flush=True,
            )


def block_ssim(a: Image.Image, b: Image.Image) -> float:
    """Mean SSIM of two "L" images over 8x8 blocks (no numpy: Pillow float images)."""
    blocks = (a.width // 8, a.height // 8)
    box = Image.Resampling.BOX
    x, y = a.convert("F"), b.convert("F")

    def mean(expr, **images) -> Image.Image:
        return ImageMath.lambda_eval(expr, **images).resize(blocks, box)

    mx, my = x.resize(blocks, box), y.resize(blocks, box)
    xx = mean(lambda e: e["x"] * e["x"], x=x)
    yy = mean(lambda e: e["y"] * e["y"], y=y)
    xy = mean(lambda e: e["x"] * e["y"], x=x, y=y)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    ssim = ImageMath.lambda_eval(
        lambda e: (
            ((2 * e["mx"] * e["my"] + c1) * (2 * (e["xy"] - e["mx"] * e["my"]) + c2))
            / (
                (e["mx"] * e["mx"] + e["my"] * e["my"] + c1)
                * (e["xx"] - e["mx"] * e["mx"] + e["yy"] - e["my"] * e["my"] + c2)
            )
        ),
        mx=mx,
        my=my,
        xx=xx,
        yy=yy,
        xy=xy,
    )
    values = list(ssim.get_flattened_data())
    return sum(values) / len(values)


def quality(mp4: bytes, board: sb.Storyboard, pictures, spec: RenderSpec) -> tuple[float, float]:
    """Luma PSNR (dB) and SSIM of the encoded video against the frames as drawn in RGB, at the
    quarter points of every scene (clear of transitions and of the final fade)."""
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
    squared, pixels, ssims = 0.0, 0, []
    with av.open(io.BytesIO(mp4)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            original = wanted.get(index)
            if original is None:
                continue
            decoded = frame.to_image().convert("L")
            hist = ImageChops.difference(decoded, original).histogram()
            squared += sum(count * value * value for value, count in enumerate(hist))
            pixels += original.width * original.height
            ssims.append(block_ssim(decoded, original))
    psnr = 10 * math.log10(255**2 / max(squared / pixels, 1e-9))
    return psnr, sum(ssims) / len(ssims)


def scene_costs(board: sb.Storyboard, pictures, spec: RenderSpec) -> None:
    """Composition CPU per scene, single thread: preparation, then every frame as the encoder
    thread gets it (each distinct ``Planes`` converted to an ``av.VideoFrame``)."""
    size = (spec.width, spec.height)
    composer = _Composer(board, pictures, size, spec.fps, board_palette(board, pictures))
    total = 0.0
    print(f"{'scene':<14}{'layout':<12}{'frames':>7}{'distinct':>9}{'prep ms':>9}{'ms/frame':>9}")
    for k, (scene, n) in enumerate(zip(board.scenes, _frame_counts(board, spec.fps), strict=True)):
        c0 = time.process_time()
        source = composer.scene(k, scene, n)
        c1 = time.process_time()
        last, distinct = None, 0
        for i in range(n):
            planes = source.planes(i)
            if planes is not last:
                planes.to_frame()
                distinct += 1
            last = planes
        c2 = time.process_time()
        total += c2 - c0
        print(
            f"{scene.kind:<14}{scene.layout:<12}{n:>7}{distinct:>9}{(c1 - c0) * 1000:>9.0f}"
            f"{(c2 - c1) * 1000 / n:>9.1f}"
        )
    print(f"composition, all scenes: {total:.2f} CPU-s")


def main() -> None:
    defaults = RenderSpec(1080, 1920, 15.0)  # the renderer's encoder settings
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1080x1920")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--presets", default=defaults.preset, help="comma-separated presets")
    parser.add_argument("--crf", type=int, default=defaults.crf)
    parser.add_argument("--x264-params", default=defaults.x264_params)
    parser.add_argument("--threads", type=int, default=0, help="libx264 threads (0 = auto)")
    parser.add_argument("--cores", type=int, default=0, help="pin to N cores (0 = all)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per preset")
    parser.add_argument(
        "--sweep",
        default="",
        help="only bare encodes of the captured frames with each setting, e.g. "
        "'veryfast/23/;veryfast/23/subme=1:bframes=5' (preset/crf/x264-params;...)",
    )
    parser.add_argument(
        "--segments",
        action="store_true",
        help="encode scene by scene and join (what the pipeline does: per-scene resume)",
    )
    parser.add_argument("--scenes", action="store_true", help="composition CPU per scene only")
    args = parser.parse_args()
    if args.cores:
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.cores]))
    w, h = (int(v) for v in args.size.split("x"))
    board = sb.build(STORY, args.seconds)
    pictures = {i: busy_photo((1200 + 100 * i, 1200), i) for i in range(4)}
    print(
        f"PyAV {av.__version__}, Pillow {Image.__version__}, "
        f"cores={len(os.sched_getaffinity(0))}, {w}x{h}, {args.seconds:g} s, 30 fps, "
        f"crf={args.crf}, x264-params={args.x264_params!r}, threads={args.threads}, "
        f"{len(board.scenes)} scenes{', scene segments' if args.segments else ''}"
    )
    header = (
        f"{'preset':<10}{'load':>11}{'wall s':>8}{'cpu s':>8}{'x realtime':>11}"
        f"{'bare wall':>10}{'bare cpu':>9}{'vs bare':>8}{'MB':>7}{'PSNR dB':>8}{'SSIM':>8}"
    )
    if args.scenes:
        scene_costs(board, pictures, RenderSpec(w, h, board.duration))
        return
    if not args.sweep:
        print(header)
        print("-" * len(header))
    for preset in args.presets.split(","):
        spec = RenderSpec(
            w,
            h,
            board.duration,
            preset=preset,
            crf=args.crf,
            threads=args.threads,
            x264_params=args.x264_params,
        )
        fd, path = tempfile.mkstemp(suffix=".yuv")
        os.close(fd)
        try:
            capture_frames(board, pictures, spec, path)
            if args.sweep:
                encoder_sweep(path, spec, args.sweep, args.repeat)
                continue
            for _ in range(args.repeat):
                load = os.getloadavg()[0]
                c0, t0 = cpu_seconds(), time.perf_counter()
                store = MemorySegments() if args.segments else None
                video = render_storyboard(board, pictures, spec, segments=store)
                wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
                bare_wall, bare_cpu, _ = bare_encode(path, spec)
                psnr, ssim = quality(video.mp4, board, pictures, spec)
                print(
                    f"{preset:<10}{load:>5.1f}-{os.getloadavg()[0]:<5.1f}{wall:>8.2f}{cpu:>8.2f}"
                    f"{wall / args.seconds:>11.2f}{bare_wall:>10.2f}{bare_cpu:>9.2f}"
                    f"{wall / bare_wall:>8.2f}{len(video.mp4) / 1e6:>7.2f}{psnr:>8.2f}{ssim:>8.4f}",
                    flush=True,
                )
        finally:
            os.unlink(path)


if __name__ == "__main__":
    main()
