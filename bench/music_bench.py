"""What a music bed costs a render: preparing it and encoding it, against the silent track.

    PYTHONPATH=layers/core/python:. .venv/bin/python -m bench.music_bench [--seconds 30] [--runs 5]

Per source (a bundled loop, a 60 s MP3 upload, a quiet 3 s WAV upload that needs the limiter
pass) the median of ``--runs`` of: the bed made for ``--seconds`` (decode, resample, loop or
cut, fades, ebur128 measure, gain, limiter when needed), and that bed AAC-encoded into an
audio-only MP4 the way the renderer writes it (``media.audio.AudioTrack``); the silent track's
encode is the baseline the renderer paid before. CPU seconds (``time.process_time``) next to
wall seconds, and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from ecomvideo.media import audio, music


def _timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    cpu, wall, out = [], [], None
    for _ in range(runs):
        c, w = time.process_time(), time.perf_counter()
        out = fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(cpu), statistics.median(wall), out


def _encode(bed: audio.MusicBed | None, samples: int) -> None:
    import av

    fd, path = tempfile.mkstemp(suffix=".mp4")
    os.close(fd)
    try:
        with av.open(path, "w", format="mp4") as container:
            track = audio.AudioTrack(container, bed)
            track.until(samples / audio.RATE)
            track.flush()
    finally:
        os.unlink(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from tests.unit.media.helpers_media import tone_file

    samples = round(args.seconds * audio.RATE)
    sources = {
        "bundled loop (bright-pop)": audio.MusicSource(
            music.track_file("bright-pop"), "bright-pop", seamless=True
        ),
        "60 s MP3 upload": audio.MusicSource(tone_file(0.5, 60.0, fmt="mp3"), "upload"),
        "3 s WAV upload, spikes (limiter)": audio.MusicSource(
            tone_file(0.05, 3.0, spikes=True), "upload"
        ),
    }
    print(f"load average: {os.getloadavg()}")
    cpu, wall, _ = _timed(lambda: _encode(None, samples), args.runs)
    print(f"silent AAC track, {args.seconds:g} s: encode {cpu:.3f} CPU-s ({wall:.3f} s wall)")
    for name, source in sources.items():
        cpu, wall, bed = _timed(lambda s=source: audio.music_bed(s, samples), args.runs)
        ecpu, ewall, _ = _timed(lambda b=bed: _encode(b, samples), args.runs)
        print(
            f"{name}: bed {cpu:.3f} CPU-s ({wall:.3f} s wall), encode {ecpu:.3f} CPU-s "
            f"({ewall:.3f} s wall), {bed.loudness:.2f} LUFS from {bed.source_loudness:.2f}"
        )


if __name__ == "__main__":
    main()
