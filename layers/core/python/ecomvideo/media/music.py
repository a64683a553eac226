"""The bundled royalty-free music loops: their catalogue (pure Python, for the API) and files.

The loops are our own work (CC0), composed by ``tools/make_music_loops.py`` (deterministic
synthesis: chords, bass, drums) and shipped with the pipeline worker next to its fonts
(``functions/pipeline_worker/music``). Each loop lasts a whole number of bars and runs into its
own start (notes that ring past the end are wrapped to the beginning), so it repeats without a
seam under a video of any length (``media.audio``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ecomvideo.media.worker_files import worker_dir

MUSIC_DIR_ENV = "ECOMVIDEO_MUSIC_DIR"
RATE = 48000


@dataclass(frozen=True, slots=True)
class Track:
    """A bundled loop: ``bars`` of 4/4 at ``bpm``; ``file`` in the music directory."""

    id: str
    name: str
    mood: str
    bpm: int
    bars: int

    @property
    def samples(self) -> int:
        """Its exact length at 48 kHz (the generator makes bpm/bars that divide evenly)."""
        return self.bars * 4 * 60 * RATE // self.bpm

    @property
    def duration(self) -> float:
        return self.samples / RATE

    @property
    def file(self) -> str:
        return f"{self.id}.opus"


TRACKS: tuple[Track, ...] = (
    Track("bright-pop", "Bright Pop", "upbeat", 120, 8),
    Track("easy-lounge", "Easy Lounge", "chill", 90, 4),
    Track("drive-forward", "Drive Forward", "energetic", 128, 8),
)
BY_ID: dict[str, Track] = {track.id: track for track in TRACKS}


class MusicMissing(RuntimeError):
    """The music files are not where this function looks for them (see ``music_dir``)."""


def music_dir() -> Path:
    """The directory holding the loops, first match of:

    1. ``$ECOMVIDEO_MUSIC_DIR`` when set (an explicit choice: it must hold them);
    2. ``$LAMBDA_TASK_ROOT/music``: the pipeline worker's package (Lambda, the local stack);
    3. ``functions/pipeline_worker/music`` of this checkout (tests, benches, scripts).
    """
    found, candidates = worker_dir("music", MUSIC_DIR_ENV, [track.file for track in TRACKS])
    if found is not None:
        return found
    raise MusicMissing(
        f"music loops not found in {', '.join(map(str, candidates))}: only the pipeline worker "
        f"ships them (functions/pipeline_worker/music); set {MUSIC_DIR_ENV} elsewhere"
    )


def track_file(track_id: str) -> bytes:
    """The encoded loop of a bundled track (``KeyError`` for an unknown id)."""
    return (music_dir() / BY_ID[track_id].file).read_bytes()
