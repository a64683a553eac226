"""Shared helpers for the media/provider tests: decode MP4s with PyAV, make test pictures."""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
from PIL import Image, ImageDraw, ImageStat


@dataclass
class Decoded:
    width: int
    height: int
    codec: str
    pix_fmt: str
    frame_count: int
    duration: float
    frames: list[Image.Image]


def decode(mp4: bytes, keep: tuple[int, ...] = ()) -> Decoded:
    """Decode every frame; keep the images at the indexes in ``keep`` (negative = from end)."""
    images: list[Image.Image] = []
    with av.open(io.BytesIO(mp4)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        duration = float(stream.duration * stream.time_base)
        all_frames = [f.to_image() for f in container.decode(stream)]
        for k in keep:
            images.append(all_frames[k])
        return Decoded(
            ctx.width, ctx.height, ctx.name, ctx.pix_fmt, len(all_frames), duration, images
        )


def mean_luma(img: Image.Image) -> float:
    return ImageStat.Stat(img.convert("L")).mean[0]


def luma_stddev(img: Image.Image) -> float:
    return ImageStat.Stat(img.convert("L")).stddev[0]


def photo_bytes(size: tuple[int, int] = (800, 800), fmt: str = "JPEG") -> bytes:
    """A product-photo-like picture: gradient, a red disc and a blue bar."""
    w, h = size
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(img)
    draw.ellipse((w * 0.25, h * 0.25, w * 0.75, h * 0.75), fill=(200, 40, 40))
    draw.rectangle((w * 0.05, h * 0.1, w * 0.15, h * 0.9), fill=(30, 90, 200))
    out = io.BytesIO()
    img.save(out, fmt)
    return out.getvalue()


def tone_file(
    amplitude: float,
    seconds: float,
    *,
    rate: int = 44100,
    fmt: str = "wav",
    hz: float = 440.0,
    spikes: bool = False,
) -> bytes:
    """An audio file (``wav``, ``mp3`` or ``ipod`` = m4a) of a stereo tone with a 2 Hz tremolo
    (music-like: its loudness is not one constant), peak ``amplitude`` of full scale; with
    ``spikes`` 5 ms at full scale every half second (peaks far above its loudness)."""
    import array
    import math
    from fractions import Fraction

    codec = {"wav": "pcm_s16le", "mp3": "libmp3lame", "ipod": "aac"}[fmt]
    out = io.BytesIO()
    with av.open(out, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "stereo"
        total, done, step = int(seconds * rate), 0, 1152
        while done < total:
            n = min(step, total - done)
            values = array.array("f")
            for i in range(done, done + n):
                t = i / rate
                level = 1.0 if spikes and t % 0.5 < 0.005 else amplitude
                v = level * math.sin(2 * math.pi * hz * t) * (0.7 + 0.3 * math.sin(4 * math.pi * t))
                values.extend((v, v))
            frame = av.AudioFrame(format="flt", layout="stereo", samples=n)
            data = values.tobytes()
            frame.planes[0].update(data + bytes(frame.planes[0].buffer_size - len(data)))
            frame.sample_rate, frame.pts, frame.time_base = rate, done, Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
            done += n
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


@dataclass
class Sound:
    """A decoded audio track: per-channel-averaged mono samples at ``rate``, its integrated
    loudness (LUFS, ebur128) and the stream's duration."""

    samples: list[float]
    rate: int
    loudness: float
    true_peak: float
    duration: float


def decode_audio(data: bytes) -> Sound:
    """The first audio stream of ``data`` decoded and measured with ffmpeg's ebur128."""
    import array
    from fractions import Fraction

    graph = av.filter.Graph()
    src = graph.add_abuffer(
        format="fltp", sample_rate=48000, layout="stereo", time_base=Fraction(1, 48000)
    )
    meter = graph.add("ebur128", "metadata=1:peak=true")
    fmt = graph.add("aformat", "sample_fmts=flt:channel_layouts=mono")
    sink = graph.add("abuffersink")
    src.link_to(meter)
    meter.link_to(fmt)
    fmt.link_to(sink)
    graph.configure()
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000)
    samples = array.array("f")
    last: dict[str, str] = {}

    def drain() -> None:
        nonlocal last
        while True:
            try:
                frame = graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            samples.frombytes(bytes(frame.planes[0])[: frame.samples * 4])
            if "lavfi.r128.I" in frame.metadata:  # frames that end a measurement step
                last = dict(frame.metadata)

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        duration = float(stream.duration * stream.time_base) if stream.duration else 0.0
        for decoded in container.decode(stream):
            for frame in resampler.resample(decoded):
                graph.push(frame)
                drain()
        for frame in resampler.resample(None):
            graph.push(frame)
            drain()
    graph.push(None)
    drain()
    return Sound(
        list(samples),
        48000,
        float(last.get("lavfi.r128.I", -70.0)),  # ebur128 says nothing about silence
        float(last.get("lavfi.r128.true_peak", 0.0)),
        duration,
    )


def rms(samples: list[float]) -> float:
    return (sum(v * v for v in samples) / max(1, len(samples))) ** 0.5
