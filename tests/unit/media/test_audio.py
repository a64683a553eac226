"""The music bed: laid under the whole video, looped or cut, faded, normalised to -14 LUFS."""

from __future__ import annotations

import io
from itertools import pairwise

import av
import pytest

from ecomvideo.media import audio
from ecomvideo.media import storyboard as sb
from ecomvideo.media.render import RenderSpec, encode_mp4
from ecomvideo.media.segments import MemorySegments
from ecomvideo.media.storyboard_render import render_storyboard
from tests.unit.media.fixtures_storyboard import STORY
from tests.unit.media.fixtures_storyboard import pictures as _pictures
from tests.unit.media.helpers_media import decode, decode_audio, rms, tone_file

AAC_FRAME = 1024 / 48000
# Peak amplitudes of the test tone measuring about -30 and -6 LUFS (checked below).
QUIET, LOUD = 0.05, 0.78


def _blank_video(bed: audio.MusicBed | bool, seconds: float) -> bytes:
    from PIL import Image

    spec = RenderSpec(64, 64, seconds, crf=40)
    frame = Image.new("RGB", (64, 64), (20, 40, 60))
    return encode_mp4(iter([frame] * spec.frame_count), spec, audio=bed)


def _bed(data: bytes, seconds: float, **kwargs) -> audio.MusicBed:
    return audio.music_bed(audio.MusicSource(data, "upload", **kwargs), round(seconds * audio.RATE))


@pytest.mark.parametrize(("amplitude", "source_lufs"), [(QUIET, -30), (LOUD, -6)])
def test_a_quiet_or_loud_upload_ends_at_minus_14_lufs_in_the_mp4(amplitude, source_lufs):
    upload = tone_file(amplitude, 12.0, fmt="mp3")
    assert decode_audio(upload).loudness == pytest.approx(source_lufs, abs=1)

    bed = _bed(upload, 10.0)
    sound = decode_audio(_blank_video(bed, 10.0))

    assert sound.loudness == pytest.approx(audio.TARGET_LUFS, abs=1)
    assert bed.loudness == pytest.approx(audio.TARGET_LUFS, abs=0.5)
    assert bed.source_loudness == pytest.approx(source_lufs, abs=1.5)
    assert sound.true_peak < 1.0  # never clipped


def test_a_quiet_upload_with_full_scale_spikes_is_limited_not_clipped():
    # About -23 LUFS, but +9 dB would put its spikes 9 dB over full scale.
    upload = tone_file(QUIET, 6.0, spikes=True)
    bed = _bed(upload, 6.0)
    sound = decode_audio(_blank_video(bed, 6.0))
    assert bed.source_loudness < -20
    assert sound.loudness == pytest.approx(audio.TARGET_LUFS, abs=1)
    assert sound.true_peak <= 1.0


def test_the_bed_fades_in_and_out_with_the_video():
    sound = decode_audio(_blank_video(_bed(tone_file(0.5, 8.0), 6.0), 6.0))
    n = round(0.05 * sound.rate)
    middle = len(sound.samples) // 2
    loud = rms(sound.samples[middle - 2 * n : middle + 2 * n])
    assert rms(sound.samples[:n]) < loud / 10
    assert rms(sound.samples[-n:]) < loud / 10


def test_audio_and_video_last_the_same_time_for_short_and_long_uploads():
    for upload_seconds in (1.5, 20.0):
        mp4 = _blank_video(_bed(tone_file(0.3, upload_seconds, fmt="mp3"), 7.0), 7.0)
        video = decode(mp4)
        with av.open(io.BytesIO(mp4)) as container:
            stream = container.streams.audio[0]
            assert stream.codec_context.name == "aac" and stream.rate == 48000
            assert stream.codec_context.channels == 2
            seconds = float(stream.duration * stream.time_base)
        assert video.duration == pytest.approx(7.0)
        assert abs(seconds - video.duration) <= AAC_FRAME + 1e-6
        assert decode_audio(mp4).duration == pytest.approx(seconds)


def test_a_short_upload_repeats_without_a_click_at_its_seam():
    # A tone cut mid-cycle: repeated as it is, the seam would jump by up to 2x its amplitude.
    bed = _bed(tone_file(0.5, 1.013, hz=300), 4.0)
    sound = decode_audio(_blank_video(bed, 4.0))
    seam = round(1.013 * sound.rate)
    jumps = [abs(b - a) for a, b in pairwise(sound.samples[seam - 200 : seam + 200])]
    steady = [abs(b - a) for a, b in pairwise(sound.samples[seam + 4000 : seam + 4400])]
    assert max(jumps) <= 1.5 * max(steady)


def test_without_music_the_track_is_silent_and_the_bed_is_not_made(monkeypatch):
    monkeypatch.setattr(audio, "music_bed", lambda *a: pytest.fail("no bed without music"))
    board = sb.build(STORY, 5)
    video = render_storyboard(board, _pictures(), RenderSpec(180, 320, board.duration))
    sound = decode_audio(video.mp4)
    assert video.music is None
    assert max(abs(v) for v in sound.samples) == 0
    assert sound.duration == pytest.approx(5.0, abs=AAC_FRAME)


def test_the_music_runs_on_across_joined_scene_segments():
    board = sb.build(STORY, 6)
    spec = RenderSpec(180, 320, board.duration)
    music = audio.MusicSource(tone_file(0.4, 20.0, fmt="mp3", hz=220), "upload")
    whole = render_storyboard(board, _pictures(), spec, music=music)
    joined = render_storyboard(board, _pictures(), spec, segments=MemorySegments(), music=music)

    a, b = decode_audio(whole.mp4), decode_audio(joined.mp4)
    assert a.samples == b.samples  # the same bed, written once over the whole file
    assert joined.music == whole.music
    assert joined.music["track"] == "upload"
    assert joined.music["loudness"] == pytest.approx(-14, abs=0.5)
    # No gap or jump where the scenes join: the tone's envelope is steady there.
    for scene in joined.scenes[1:-1]:
        at = round(scene["start"] * b.rate)
        around = rms(b.samples[at - 480 : at + 480])
        assert around == pytest.approx(rms(b.samples[at - 4800 : at - 3840]), rel=0.35)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not audio at all" * 100, "not a readable audio file"),
        (None, "lasts 0.50 s"),
        (b"", "not a readable audio file"),
    ],
)
def test_check_music_refuses_undecodable_or_too_short_audio(data, reason):
    if data is None:
        data = tone_file(0.3, 0.5)
    with pytest.raises(audio.AudioError, match=reason):
        audio.check_music(data)


def test_check_music_refuses_a_file_without_an_audio_stream():
    from tests.unit.media.helpers_media import photo_bytes

    with pytest.raises(audio.AudioError):
        audio.check_music(photo_bytes())
    assert audio.check_music(tone_file(0.3, 3.0, fmt="ipod")) >= 1.0


def test_a_silent_upload_stays_silent_and_says_so():
    bed = _bed(tone_file(0.0, 2.0), 4.0)
    assert bed.loudness == bed.source_loudness == audio.SILENCE_LUFS
    sound = decode_audio(_blank_video(bed, 4.0))
    assert max(abs(v) for v in sound.samples) < 1e-4


def test_the_formats_of_one_video_share_one_bed(monkeypatch):
    made = []
    real = audio.music_bed
    monkeypatch.setattr(audio, "music_bed", lambda *a: made.append(a) or real(*a))
    music = audio.MusicSource(tone_file(0.3, 2.0), "upload")
    first = audio.bed_for(music, 90, 30)
    assert audio.bed_for(music, 90, 30) is first and len(made) == 1
    assert audio.bed_for(music, 120, 30) is not first and len(made) == 2  # another length
    assert first is not None and first.samples == 3 * audio.RATE
