"""Compose the bundled music loops (``ecomvideo.media.music.TRACKS``): deterministic synthesis.

Pure Python (no numpy) plus PyAV for the Opus encode. Each track is a whole number of 4/4
bars: a chord progression (plucked keys or a soft pad), a bass line, kick, clap and hi-hats,
mixed in stereo into a *circular* buffer: a note that rings past the loop's end is wrapped to
its start, so the loop runs into itself without a seam. Noise comes from a seeded
``random.Random``; the same inputs always give the same samples.

    PYTHONPATH=layers/core/python:. .venv/bin/python -m tools.make_music_loops [out_dir]

Writes ``<id>.opus`` (Ogg Opus, 48 kHz stereo, 48 kb/s) for every track into ``out_dir``
(default ``functions/pipeline_worker/music``). Our own work, released under CC0.
"""

from __future__ import annotations

import array
import math
import random
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ecomvideo.media.music import RATE, TRACKS, Track

BIT_RATE = 48_000
PEAK = 0.8
OUT_DIR = Path("functions/pipeline_worker/music")
TAU = 2 * math.pi

# Chords as semitones above A2 (110 Hz) per bar; bass plays the first note an octave down.
_PROGRESSIONS = {
    "upbeat": [(3, 7, 10), (10, 14, 17), (0, 3, 7), (8, 12, 15)],  # C  G  Am F
    "chill": [(0, 3, 7, 10), (5, 8, 12, 15), (-2, 2, 5, 9), (3, 7, 10, 14)],  # Am7 Dm7 G7 C7
    "energetic": [(0, 3, 7), (8, 12, 15), (3, 7, 10), (10, 14, 17)],  # Am F  C  G
}


@dataclass(frozen=True)
class Style:
    keys_pluck: bool  # plucked stabs on the off-beats (else a held pad)
    four_on_floor: bool
    hats_per_beat: int
    swing: float


_STYLES = {
    "upbeat": Style(True, True, 2, 0.0),
    "chill": Style(False, False, 2, 0.12),
    "energetic": Style(True, True, 4, 0.0),
}


def _hz(semitones: float) -> float:
    return 110.0 * 2 ** (semitones / 12)


class Loop:
    """A stereo circular buffer of ``n`` samples."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.left = array.array("d", bytes(8 * n))
        self.right = array.array("d", bytes(8 * n))

    def add(self, start: int, samples: list[float], pan: float = 0.0) -> None:
        """``samples`` from ``start`` (wrapping past the end), panned -1 (left) .. 1 (right)."""
        gl, gr = math.cos((pan + 1) * math.pi / 4), math.sin((pan + 1) * math.pi / 4)
        n, left, right = self.n, self.left, self.right
        for i, v in enumerate(samples):
            j = (start + i) % n
            left[j] += v * gl
            right[j] += v * gr


def _tone(hz: float, seconds: float, *, attack: float, decay: float, bright: float) -> list[float]:
    count = int(seconds * RATE)
    step = TAU * hz / RATE
    out = []
    for i in range(count):
        t = i / RATE
        env = min(1.0, t / attack) * math.exp(-t / decay)
        # Release the last 20 ms so a note never stops on a step.
        env *= min(1.0, (count - i) / (0.02 * RATE))
        p = step * i
        out.append(env * (math.sin(p) + bright * math.sin(2 * p) + bright * 0.4 * math.sin(3 * p)))
    return out


def _kick() -> list[float]:
    out, phase = [], 0.0
    for i in range(int(0.25 * RATE)):
        t = i / RATE
        phase += TAU * (48 + 90 * math.exp(-t / 0.03)) / RATE
        out.append(math.sin(phase) * math.exp(-t / 0.09))
    return out


def _noise(rng: random.Random, seconds: float, decay: float, hp: bool) -> list[float]:
    out, last = [], 0.0
    for i in range(int(seconds * RATE)):
        x = rng.uniform(-1, 1)
        v = x - last if hp else x  # a first difference: a crude high-pass for hats
        last = x
        out.append(v * math.exp(-(i / RATE) / decay))
    return out


def compose(track: Track) -> Loop:
    """The track's samples (deterministic)."""
    style, chords = _STYLES[track.mood], _PROGRESSIONS[track.mood]
    rng = random.Random(track.id)
    loop = Loop(track.samples)
    beat = 60 / track.bpm
    at = lambda bar, beats: round((bar * 4 + beats) * beat * RATE)  # noqa: E731
    kick, clap = _kick(), _noise(rng, 0.2, 0.05, hp=False)
    hats = [_noise(rng, 0.06, 0.012, hp=True) for _ in range(4)]
    for bar in range(track.bars):
        chord = chords[bar % len(chords)]
        # Keys: off-beat stabs or one held pad per bar, slightly to the left.
        for note in chord:
            if style.keys_pluck:
                stab = _tone(_hz(note + 12), beat * 0.9, attack=0.004, decay=0.18, bright=0.5)
                for b in range(4):
                    loop.add(at(bar, b + 0.5), [0.11 * v for v in stab], pan=-0.3)
            else:
                pad = _tone(_hz(note + 12), beat * 4.4, attack=0.25, decay=3.0, bright=0.2)
                loop.add(at(bar, 0), [0.07 * v for v in pad], pan=-0.25)
        # Bass: the root, an octave down, on every beat (eighths for the energetic track).
        root = _hz(chord[0] - 12)
        steps = 8 if track.mood == "energetic" else 4
        note = _tone(root, beat * 4 / steps * 0.85, attack=0.005, decay=0.25, bright=0.35)
        for k in range(steps):
            loop.add(at(bar, k * 4 / steps), [0.3 * v for v in note], pan=0.0)
        # Drums.
        for b in range(4):
            if style.four_on_floor or b in (0, 2):
                loop.add(at(bar, b), [0.55 * v for v in kick])
            if b in (1, 3):
                loop.add(at(bar, b), [0.22 * v for v in clap], pan=0.1)
            for h in range(style.hats_per_beat):
                offset = h / style.hats_per_beat + (style.swing if h % 2 else 0.0)
                hat = hats[(bar * 4 + b + h) % len(hats)]
                loop.add(at(bar, b + offset), [0.12 * v for v in hat], pan=0.35)
    return loop


def encode(loop: Loop, path: Path) -> None:
    """The loop as Ogg Opus, peak-normalised to ``PEAK``."""
    import av

    peak = max(max(map(abs, loop.left)), max(map(abs, loop.right))) or 1.0
    scale = PEAK / peak
    # bitexact: no random Ogg serial number, no encoder version tag (same bytes every run)
    with av.open(str(path), "w", format="ogg", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libopus", rate=RATE)
        stream.layout = "stereo"
        stream.bit_rate = BIT_RATE
        step = 960
        for start in range(0, loop.n, step):
            n = min(step, loop.n - start)
            frame = av.AudioFrame(format="fltp", layout="stereo", samples=n)
            for plane, channel in zip(frame.planes, (loop.left, loop.right), strict=True):
                data = array.array("f", (v * scale for v in channel[start : start + n]))
                raw = data.tobytes()
                plane.update(raw + bytes(plane.buffer_size - len(raw)))
            frame.sample_rate, frame.pts, frame.time_base = RATE, start, Fraction(1, RATE)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def main(argv: list[str]) -> None:
    out_dir = Path(argv[0]) if argv else OUT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    for track in TRACKS:
        path = out_dir / track.file
        encode(compose(track), path)
        print(f"{path}: {track.duration:.3f} s, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
