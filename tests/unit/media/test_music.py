"""The bundled loops: what the generator makes, the catalogue's lengths, seamless repeats."""

from __future__ import annotations

from itertools import pairwise

import pytest

from ecomvideo.media import audio, music
from tests.unit.media.helpers_media import decode_audio
from tools import make_music_loops


def _samples(data: bytes) -> list[float]:
    return decode_audio(data).samples


def test_the_committed_loops_are_what_the_generator_makes(tmp_path):
    track = min(music.TRACKS, key=lambda t: t.samples)  # the cheapest to compose
    path = tmp_path / track.file
    make_music_loops.encode(make_music_loops.compose(track), path)
    assert path.read_bytes() == music.track_file(track.id), (
        "regenerate: PYTHONPATH=layers/core/python:. .venv/bin/python -m tools.make_music_loops"
    )


@pytest.mark.parametrize("track", music.TRACKS, ids=lambda t: t.id)
def test_every_loop_decodes_to_its_catalogued_length_and_repeats_without_a_click(track):
    assert 8 <= track.duration <= 16
    _frames, count = audio.decode(music.track_file(track.id), 10**9)
    assert count == track.samples  # exactly whole bars: the repeat stays on the beat
    samples = _samples(music.track_file(track.id))
    jumps = sorted(abs(b - a) for a, b in pairwise(samples))
    typical = jumps[int(len(jumps) * 0.99)]
    assert abs(samples[0] - samples[-1]) <= typical  # the seam is like any other step
    assert -24 < decode_audio(music.track_file(track.id)).loudness < -10


def test_a_loop_under_a_longer_video_repeats_seamlessly_at_minus_14_lufs():
    track = music.BY_ID["easy-lounge"]
    source = audio.MusicSource(music.track_file(track.id), track.id, seamless=True)
    bed = audio.music_bed(source, track.samples * 2 + 48000)
    assert bed.loudness == pytest.approx(audio.TARGET_LUFS, abs=0.5)
    assert bed.describe()["track"] == "easy-lounge"
    left = []
    for frame in bed.frames:
        left += memoryview(bytes(frame.planes[0])).cast("f")[: frame.samples].tolist()
    assert len(left) == bed.samples
    steps = sorted(abs(b - a) for a, b in pairwise(left))
    typical = steps[int(len(steps) * 0.99)]
    for seam in (track.samples, 2 * track.samples):
        assert abs(left[seam] - left[seam - 1]) <= typical  # no click where it repeats


def test_the_music_directory_follows_the_env_then_the_task_root(tmp_path, monkeypatch):
    monkeypatch.delenv(music.MUSIC_DIR_ENV, raising=False)
    checkout = music.music_dir()
    assert (checkout / "README.md").read_text().count("CC0") >= 1
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(tmp_path))
    assert music.music_dir() == checkout  # no music under that task root: the checkout's
    (tmp_path / "music").mkdir()
    for track in music.TRACKS:
        (tmp_path / "music" / track.file).write_bytes(b"x")
    assert music.music_dir() == tmp_path / "music"
    monkeypatch.setenv(music.MUSIC_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(music.MusicMissing):
        music.music_dir()
