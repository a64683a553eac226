"""The video's sound: a silent track, or a music bed mixed to the video's length at -14 LUFS.

A *music bed* is made from an audio file (a bundled loop or the user's upload) in three steps,
all in ffmpeg's filters through PyAV (the layer has no numpy; the filters run in C):

1. decode and resample to 48 kHz stereo (``av.AudioResampler``), only as much as the video
   needs; a shorter file is repeated to the video's length (a bundled loop is made to run
   into its own start; an upload gets a 10 ms fade at its edges so its seam does not click),
   a longer one is cut; then a fade in (0.5 s) and a fade out ending with the video (1.5 s),
   measured by ``ebur128`` (ITU-R BS.1770 / EBU R128 integrated loudness, gated);
2. one linear gain to -14 LUFS (``volume``), a sample-peak limiter at -1.5 dBFS
   (``alimiter``) only when the gain would push peaks past it, then measured again; when the
   limiter cost loudness the gain is corrected (at most 3 more passes, usually none);
3. cut into 1024-sample frames for the AAC encoder (``AudioTrack``), which writes them in step
   with the video frames (or silence when there is no bed).

Mixing happens once per rendered file, over its whole length: storyboard scenes are encoded
as video-only segments and joined (``media.segments.concat``), and the bed is written with the
joined file, so the sound is continuous across scene joins (docs/decisions.md).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

RATE = 48000
FRAME_SAMPLES = 1024  # one AAC frame
TARGET_LUFS = -14.0
FADE_IN_SECONDS = 0.5
FADE_OUT_SECONDS = 1.5
EDGE_SECONDS = 0.01  # an upload's fade at its own start and end, when it is repeated
PEAK_LIMIT = 0.84  # -1.5 dBFS sample peak: keeps the true peak under -1 dBTP
MAX_GAIN_DB = 30.0  # a (nearly) silent file is not turned into amplified noise
MAX_CORRECTIONS = 3  # gain corrections after the limiter (each a pass over the bed)
MIN_SECONDS = 1.0
SILENCE_LUFS = -70.0  # ebur128's floor (its absolute gate)
_TIME_BASE = Fraction(1, RATE)
# ffmpeg's AAC encoder for a background bed at 128 kb/s: the "fast" coder without its
# optional tools (noise substitution, intensity and mid/side stereo, temporal noise shaping)
# costs ~1/3 of the default "twoloop" (a 30 s loop: ~0.25 instead of ~0.8 CPU-s;
# docs/benchmarks.md, bench/music_bench.py).
AAC_OPTIONS = {"aac_coder": "fast", "aac_pns": "0", "aac_is": "0", "aac_ms": "0", "aac_tns": "0"}


class AudioError(ValueError):
    """The file is not usable audio (no audio stream, undecodable)."""


@dataclass(frozen=True, slots=True)
class MusicSource:
    """An audio file to lay under a video. ``label`` is what ``metadata.music`` calls it (a
    bundled track's id, or ``"upload"``); ``seamless``: the file is a loop made to run into
    its own start (bundled tracks), so it is repeated as it is."""

    data: bytes = field(repr=False)
    label: str
    seamless: bool = False


@dataclass(frozen=True, slots=True)
class MusicBed:
    """A bed ready to encode: 48 kHz stereo ``fltp`` frames of 1024 samples (the last may be
    shorter), ``samples`` in all, and its loudness before and after normalisation."""

    frames: list[Any] = field(repr=False)
    samples: int
    label: str
    loudness: float
    source_loudness: float

    def describe(self) -> dict[str, Any]:
        """``metadata.music`` of a video that carries this bed."""
        return {
            "track": self.label,
            "loudness": round(self.loudness, 2),
            "sourceLoudness": round(self.source_loudness, 2),
        }


def _open(data: bytes) -> tuple[Any, Any]:
    import av

    try:
        container = av.open(io.BytesIO(data), "r")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise AudioError("not a readable audio file") from exc
    if not container.streams.audio:
        container.close()
        raise AudioError("the file has no audio stream")
    return container, container.streams.audio[0]


def decode(data: bytes, max_samples: int) -> tuple[list[Any], int]:
    """Up to about ``max_samples`` of ``data`` as 48 kHz stereo ``fltp`` frames (pts in
    samples) and how many samples they hold. Raises ``AudioError`` when it does not decode."""
    import av

    container, stream = _open(data)
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
    frames: list[Any] = []
    count = 0

    def keep(out: list[Any]) -> None:
        nonlocal count
        for frame in out:
            if frame.samples:
                frame.pts, frame.time_base = count, _TIME_BASE
                frames.append(frame)
                count += frame.samples

    try:
        with container:
            for frame in container.decode(stream):
                keep(resampler.resample(frame))
                if count >= max_samples:
                    break
            keep(resampler.resample(None))
    except av.error.FFmpegError as exc:
        if count == 0:
            raise AudioError("the audio does not decode") from exc
        # A damaged tail: what decoded before it is used.
    return frames, count


def check_music(data: bytes) -> float:
    """The seconds of audio ``data`` decodes to (at most a little over ``MIN_SECONDS``: only
    that much is decoded). Raises ``AudioError`` when it is not decodable audio or shorter."""
    _frames, count = decode(data, round(MIN_SECONDS * RATE))
    seconds = count / RATE
    if seconds < MIN_SECONDS:
        raise AudioError(f"the audio lasts {seconds:.2f} s; at least {MIN_SECONDS:g} s is needed")
    return seconds


def _run(chain: list[tuple[str, str]], frames: list[Any]) -> tuple[list[Any], dict[str, str]]:
    """``frames`` (48 kHz stereo fltp) through the filters ``chain``; the output frames and the
    metadata of the last one (``ebur128``'s measurements)."""
    import av

    graph = av.filter.Graph()
    src = graph.add_abuffer(format="fltp", sample_rate=RATE, layout="stereo", time_base=_TIME_BASE)
    node = src
    for name, args in chain:
        nxt = graph.add(name, args)
        node.link_to(nxt)
        node = nxt
    # Back to the format every step takes (ebur128 and alimiter work in doubles).
    fmt = graph.add("aformat", "sample_fmts=fltp:channel_layouts=stereo:sample_rates=48000")
    node.link_to(fmt)
    sink = graph.add("abuffersink")
    fmt.link_to(sink)
    graph.configure()
    out: list[Any] = []

    def drain() -> None:
        while True:
            try:
                out.append(graph.pull())
            except (av.BlockingIOError, av.EOFError):
                return

    try:
        for frame in frames:
            graph.push(frame)
            drain()
        graph.push(None)
    except av.EOFError:  # a trim reached its end: the rest is not wanted
        pass
    drain()
    # ebur128 tags the frames that end a measurement step: the last tagged one has the totals.
    tagged = next((frame for frame in reversed(out) if frame.metadata), None)
    return out, dict(tagged.metadata) if tagged is not None else {}


def _repeated(frames: list[Any], count: int, samples: int) -> list[Any]:
    """``frames`` (``count`` samples) repeated until ``samples`` are covered, pts continuing."""
    import av

    out: list[Any] = []
    offset = 0
    while offset < samples:
        for frame in frames:
            copy = av.AudioFrame(format="fltp", layout="stereo", samples=frame.samples)
            for dst, src in zip(copy.planes, frame.planes, strict=True):
                dst.update(bytes(src)[: dst.buffer_size])
            copy.sample_rate = RATE
            copy.pts, copy.time_base = offset + frame.pts, _TIME_BASE
            out.append(copy)
        offset += count
    return out


def _loudness(meta: dict[str, str]) -> float:
    try:
        return float(meta["lavfi.r128.I"])
    except (KeyError, ValueError):
        return SILENCE_LUFS


def music_bed(source: MusicSource, samples: int) -> MusicBed:
    """``source`` laid over ``samples`` samples at 48 kHz: repeated or cut to that length,
    faded in and out, normalised to -14 LUFS (see the module's docstring)."""
    frames, count = decode(source.data, samples)
    if count == 0:
        raise AudioError("the audio is empty")
    seconds = samples / RATE
    if count < samples:
        if not source.seamless:
            end = count / RATE - EDGE_SECONDS
            frames, _ = _run(
                [
                    ("afade", f"t=in:d={EDGE_SECONDS}"),
                    ("afade", f"t=out:st={end:.6f}:d={EDGE_SECONDS}"),
                ],
                frames,
            )
        frames = _repeated(frames, count, samples)
    frames = [frame for frame in frames if frame.pts < samples]
    fade_in = min(FADE_IN_SECONDS, seconds / 4)
    fade_out = min(FADE_OUT_SECONDS, seconds / 3)
    shaped, meta = _run(
        [
            ("atrim", f"end_sample={samples}"),
            ("afade", f"t=in:d={fade_in:.6f}"),
            ("afade", f"t=out:st={seconds - fade_out:.6f}:d={fade_out:.6f}"),
            ("ebur128", "metadata=1:peak=sample"),
        ],
        frames,
    )
    source_loudness = _loudness(meta)
    peak = max(
        (float(meta.get(f"lavfi.r128.sample_peaks_ch{c}", 1.0)) for c in (0, 1)), default=1.0
    )
    silent = source_loudness <= SILENCE_LUFS  # below ebur128's gate: it stays silent, no gain
    gain = 0.0 if silent else min(MAX_GAIN_DB, TARGET_LUFS - source_loudness)
    out, loudness = _normalised(shaped, gain, peak, meta)
    for _ in range(MAX_CORRECTIONS):
        if abs(loudness - TARGET_LUFS) <= 0.5 or silent or gain >= MAX_GAIN_DB:
            break
        # The limiter took loudness off the peaks: ask for that much more.
        gain = min(MAX_GAIN_DB, gain + TARGET_LUFS - loudness)
        out, loudness = _normalised(shaped, gain, peak, meta)
    return MusicBed(
        frames=out,
        samples=samples,
        label=source.label,
        loudness=loudness,
        source_loudness=source_loudness,
    )


def _normalised(
    frames: list[Any], gain_db: float, peak: float, source_meta: dict[str, str]
) -> tuple[list[Any], float]:
    """``frames`` with ``gain_db`` applied (peaks limited when they would pass ``PEAK_LIMIT``),
    cut into AAC frames; and their integrated loudness."""
    chain = [("volume", f"volume={gain_db:.4f}dB")]
    limited = peak * 10 ** (gain_db / 20) > PEAK_LIMIT
    if limited:
        chain += [
            ("alimiter", f"limit={PEAK_LIMIT}:level=0:attack=5:release=50:latency=1"),
            ("ebur128", "metadata=1"),
        ]
    out, meta = _run([*chain, ("asetnsamples", f"n={FRAME_SAMPLES}:p=0")], frames)
    # A gain alone moves the (gated) integrated loudness by exactly the gain: no second meter.
    return out, _loudness(meta) if limited else _loudness(source_meta) + gain_db


class AudioTrack:
    """A 48 kHz stereo AAC stream of ``container``, written in step with the video: the
    ``bed``'s frames, or silence without one."""

    BIT_RATE = 128_000

    def __init__(self, container: Any, bed: MusicBed | None = None) -> None:
        import av

        self.container = container
        self.stream = container.add_stream("aac", rate=RATE, options=AAC_OPTIONS if bed else None)
        self.stream.layout = "stereo"
        self.bed = bed
        if bed is not None:
            self.stream.bit_rate = self.BIT_RATE
        self.silence = av.AudioFrame(format="fltp", layout="stereo", samples=FRAME_SAMPLES)
        for plane in self.silence.planes:
            plane.update(bytes(plane.buffer_size))
        self.silence.sample_rate = RATE
        self.written = 0  # samples
        self.index = 0  # the bed's next frame

    def _write(self, frame: Any) -> None:
        frame.pts, frame.time_base = self.written, _TIME_BASE
        self.container.mux(self.stream.encode(frame))
        self.written += frame.samples

    def until(self, seconds: float) -> None:
        """Every whole AAC frame up to ``seconds`` of the video."""
        target = round(seconds * RATE)
        if self.bed is None:
            while self.written + FRAME_SAMPLES <= target:
                self._write(self.silence)
            return
        frames = self.bed.frames
        while self.index < len(frames) and self.written + frames[self.index].samples <= target:
            self._write(frames[self.index])
            self.index += 1

    def flush(self) -> None:
        """The bed's last (short) frame, then the encoder's tail."""
        if self.bed is not None:
            for frame in self.bed.frames[self.index :]:
                self._write(frame)
            self.index = len(self.bed.frames)
        self.container.mux(self.stream.encode(None))


def bed_for(music: MusicSource | None, frames: int, fps: int) -> MusicBed | None:
    """The bed of ``music`` under ``frames`` video frames (sample-exact at 48 kHz); ``None``
    without music, or (logged) when the file does not decode: the video gets a silent track
    rather than failing (uploads are checked at create, ``check_music``).

    The last bed is kept: the extra formats of a video (rendered one after the other with the
    same music and length) share it instead of making it again."""
    if music is None:
        return None
    try:
        return _last_bed(music, round(frames * RATE / fps))
    except AudioError as exc:
        from ecomvideo.observability import logger

        reason = {"music": music.label, "reason": str(exc)}
        logger.warning("music unusable: silent track", extra=reason)
        return None


@lru_cache(maxsize=1)
def _last_bed(music: MusicSource, samples: int) -> MusicBed:
    return music_bed(music, samples)


def audio_track(container: Any, audio: bool | MusicBed) -> AudioTrack | None:
    """The AAC track ``audio`` asks for: none (``False``), silence (``True``) or the bed."""
    if audio is False:
        return None
    return AudioTrack(container, None if audio is True else audio)
