"""A multi-genre corpus of real music, speech and voices from Debian packages.

Eleven sources, each a whole Debian package (or synthetic speech), in two roles:

========================  ==========  =================================================
package                   role        what it holds
========================  ==========  =================================================
fretsonfire-songs-muldjord  fit       rock band stems (mixed), 4 songs
fb-music-high             fit         a tracker module (XM), rendered with openmpt123
hyperrogue-music          fit         game soundtrack, 101 tracks, many composers
asc-music                 fit         orchestral/electronic game music, 3 MP3s
wesnoth-1.16-music        fit         orchestral and folk, 41 tracks
ufoai-music               fit         ambient, orchestral and electronic, 64 tracks
singularity-music         fit         electronic and piano, 16 tracks
fretsonfire-songs-sectoid held out    rock band stems (another band), 4 songs
nexuiz-music              held out    electronic/industrial game soundtrack, 18 tracks
boswars-data              held out    recorded voices (unit voices, tutorial voice-overs)
espeak-ng                 held out    synthetic speech (several languages and voices)
========================  ==========  =================================================

Profiles are fitted on the *fit* packages only; every figure of :mod:`lab.genres`
is leave-one-package-out (a fit package is scored with a profile fitted on the other six).

Clips are 10 s. The *test* clips of a package are the middles of 8 tracks spread over it
(several per track where a package has fewer); the *train* clips come from the same tracks'
other segments and from the other tracks, never overlapping a test clip. ``python -m
lab.genre_corpus DIR`` writes them as 44.1 kHz stereo 24-bit FLAC files,
``DIR/{train,test}/PACKAGE/*.flac``; :func:`load_corpus` reads such a directory back. Install
the packages with :data:`INSTALL_HINT`; packages that are absent are skipped (and named).
"""

from __future__ import annotations

import argparse
import functools
import io
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "CORPUS_RATE",
    "FIT_PACKAGES",
    "HOLDOUT_PACKAGES",
    "INSTALL_HINT",
    "PACKAGES",
    "Clip",
    "Track",
    "build_corpus",
    "load_corpus",
    "package_tracks",
    "split_clips",
]

CORPUS_RATE = 44100
CLIP_SECONDS = 10.0
#: Test clips per package, train clips per package (at most).
N_TEST, N_TRAIN = 8, 40
FIT_PACKAGES = (
    "fretsonfire-songs-muldjord",
    "fb-music-high",
    "hyperrogue-music",
    "asc-music",
    "wesnoth-1.16-music",
    "ufoai-music",
    "singularity-music",
)
HOLDOUT_PACKAGES = ("fretsonfire-songs-sectoid", "nexuiz-music", "boswars-data", "espeak-ng")
PACKAGES = FIT_PACKAGES + HOLDOUT_PACKAGES
#: Short names for tables.
SHORT = {
    "fretsonfire-songs-muldjord": "muldjord",
    "fb-music-high": "fb-music",
    "hyperrogue-music": "hyperrogue",
    "asc-music": "asc",
    "wesnoth-1.16-music": "wesnoth",
    "ufoai-music": "ufoai",
    "singularity-music": "singularity",
    "fretsonfire-songs-sectoid": "sectoid",
    "nexuiz-music": "nexuiz",
    "boswars-data": "boswars",
    "espeak-ng": "espeak",
}
INSTALL_HINT = "apt-get install -y openmpt123 " + " ".join(PACKAGES)
_SKIP_SILENT_DB = -45.0
_GAP_SECONDS = 0.3


@dataclass(frozen=True)
class Track:
    """One piece of audio of a package: a file, a zip member, a rendered module or a reel."""

    package: str
    name: str
    read: Callable[[], tuple[np.ndarray, int]]

    def load(self) -> np.ndarray:
        """The track as ``(2, n)`` float32 at :data:`CORPUS_RATE` (mono sources duplicated)."""
        from mdctcompand.io import resample

        audio, rate = self.read()
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim == 1:
            audio = audio[None]
        if audio.shape[0] == 1:
            audio = np.repeat(audio, 2, axis=0)
        audio = audio[:2]
        if rate != CORPUS_RATE:
            audio = resample(audio, rate, CORPUS_RATE).astype(np.float32)
        return audio


@dataclass(frozen=True)
class Clip:
    """A 10 s clip: ``(2, n)`` float32 at :data:`CORPUS_RATE`."""

    package: str
    name: str
    audio: np.ndarray


def _read_file(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return data.T, int(rate)


def _read_zip_member(archive: Path, member: str) -> tuple[np.ndarray, int]:
    import soundfile as sf

    with zipfile.ZipFile(archive) as z:
        data, rate = sf.read(io.BytesIO(z.read(member)), dtype="float32", always_2d=True)
    return data.T, int(rate)


def _render_module(path: Path) -> tuple[np.ndarray, int]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "render.wav"
        subprocess.run(
            ["openmpt123", "--quiet", "--batch", "--samplerate", str(CORPUS_RATE), "--force", "-o", str(out), str(path)],
            check=True, stdin=subprocess.DEVNULL, capture_output=True,
        )  # fmt: skip
        return _read_file(out)


def _mix_stems(stems: tuple[Path, ...]) -> tuple[np.ndarray, int]:
    parts = [_read_file(p) for p in stems]
    rate = parts[0][1]
    n = max(p.shape[-1] for p, _ in parts)
    mix = np.zeros((2, n), np.float32)
    for p, _ in parts:
        mix[:, : p.shape[-1]] += p[:2] if p.shape[0] >= 2 else p[:1]
    peak = float(np.abs(mix).max())
    if peak > 0.99:
        mix *= 0.99 / peak
    return mix, rate


def _reel(pieces: Iterable[tuple[np.ndarray, int]], rate: int) -> tuple[np.ndarray, int]:
    """Mono pieces resampled to ``rate`` and joined with short silences (a voice reel)."""
    from mdctcompand.io import resample

    gap = np.zeros(int(_GAP_SECONDS * rate), np.float32)
    out = []
    for audio, r in pieces:
        mono = np.asarray(audio, np.float32).reshape(-1, np.shape(audio)[-1]).mean(axis=0)
        out += [resample(mono, r, rate).astype(np.float32) if r != rate else mono, gap]
    return np.concatenate(out), rate


#: Sentences for the espeak-ng reel (public-domain style text), and the voices that read them.
_SENTENCES = (
    "The quick brown fox jumps over the lazy dog while the band plays on.",
    "Every morning the harbour fills with fishing boats and the smell of salt.",
    "Please remember to close the window before the storm arrives tonight.",
    "A modified discrete cosine transform turns overlapping frames into real coefficients.",
    "She sells sea shells by the sea shore, and the shells she sells are surely sea shells.",
    "Numbers such as one hundred and twenty three are read aloud one digit at a time.",
    "The library opens at nine, closes at six, and stays quiet in between.",
    "Thunder rolled across the valley as the last train left the station.",
)
_VOICES = ("en", "en-us", "en+f3", "de", "fr", "es", "it", "en+m3")


def _espeak(voice: str, text: str) -> tuple[np.ndarray, int]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", "150", "-w", str(out), text],
            check=True, stdin=subprocess.DEVNULL, capture_output=True,
        )  # fmt: skip
        return _read_file(out)


def _files(root: str, patterns: tuple[str, ...] = ("*.ogg", "*.mp3")) -> list[Path]:
    base = Path(root)
    return sorted(p for pat in patterns for p in base.glob(pat)) if base.is_dir() else []


def _zip_members(archive: str, prefix: str) -> list[str]:
    path = Path(archive)
    if not path.is_file():
        return []
    with zipfile.ZipFile(path) as z:
        return sorted(n for n in z.namelist() if n.startswith(prefix) and n.endswith(".ogg"))


_FOF = "/usr/share/games/fretsonfire/data/songs"


def package_tracks(package: str) -> list[Track]:
    """The tracks of a package, sorted by name; empty when the package is not installed.

    Examples
    --------
    >>> package_tracks("no-such-package")
    Traceback (most recent call last):
    ...
    ValueError: unknown package 'no-such-package'; known: fretsonfire-songs-muldjord, ...
    """
    if package not in PACKAGES:
        raise ValueError(f"unknown package {package!r}; known: {', '.join(PACKAGES)}")
    tracks: list[Track] = []
    if package.startswith("fretsonfire-songs-"):
        pack = Path(_FOF) / package.rsplit("-", 1)[1]
        for song in sorted(p for p in pack.glob("*") if p.is_dir()) if pack.is_dir() else []:
            stems = tuple(sorted(song.glob("*.ogg")))
            if stems:
                tracks.append(Track(package, song.name, functools.partial(_mix_stems, stems)))
    elif package == "fb-music-high":
        xm = Path("/usr/share/games/frozen-bubble/snd/frozen-mainzik-2p.xm")
        if xm.is_file():
            tracks.append(Track(package, xm.name, functools.partial(_render_module, xm)))
    elif package in ("nexuiz-music", "ufoai-music"):
        archive, prefix = {
            "nexuiz-music": ("/usr/share/games/nexuiz/data/music.pk3", "sound/cdtracks/"),
            "ufoai-music": ("/usr/share/games/ufoai/base/0music.pk3", "music/"),
        }[package]
        for m in _zip_members(archive, prefix):
            tracks.append(Track(package, Path(m).name, functools.partial(_read_zip_member, Path(archive), m)))
    elif package == "boswars-data":
        root = Path("/usr/share/games/boswars")
        voices = sorted(root.glob("units/*/*.wav")) + sorted(root.glob("campaigns/*/*.wav"))
        # Eight reels, each voice file in one of them (round robin): 8 "tracks" of speech.
        for i in range(8 if voices else 0):
            files = voices[i::8]
            tracks.append(
                Track(
                    package,
                    f"voices-{i}",
                    functools.partial(lambda fs: _reel(map(_read_file, fs), 22050), files),
                )
            )
    elif package == "espeak-ng":
        import shutil

        if shutil.which("espeak-ng"):
            for i, voice in enumerate(_VOICES):
                texts = _SENTENCES[i:] + _SENTENCES[:i]
                tracks.append(
                    Track(
                        package, f"espeak-{voice}",
                        functools.partial(lambda v, ts: _reel((_espeak(v, t) for t in ts), 22050), voice, texts),
                    )
                )  # fmt: skip
    else:
        root = {
            "hyperrogue-music": "/usr/share/hyperrogue/music",
            "asc-music": "/usr/share/games/asc/music",
            "wesnoth-1.16-music": "/usr/share/games/wesnoth/1.16/data/core/music",
            "singularity-music": "/usr/share/games/singularity/music",
        }[package]
        tracks = [Track(package, p.name, functools.partial(_read_file, p)) for p in _files(root)]
    return tracks


def _segments(audio: np.ndarray, n: int) -> list[int]:
    """Starts of the non-silent, non-overlapping ``n``-sample segments, centred on the track."""
    total = audio.shape[-1]
    if total < n:
        return []
    offset = (total % n) // 2
    starts = range(offset, total - n + 1, n)
    floor = 10 ** (_SKIP_SILENT_DB / 20)
    return [s for s in starts if np.sqrt(np.mean(np.square(audio[:, s : s + n], dtype=np.float64))) > floor]


def _spread(count: int, k: int) -> list[int]:
    """``k`` indices of ``range(count)`` spread evenly (all of them if ``k >= count``)."""
    if k >= count:
        return list(range(count))
    return [int(i) for i in np.unique(np.linspace(0, count - 1, k + 2)[1:-1].round())]


def split_clips(
    tracks: list[Track], *, n_test: int = N_TEST, n_train: int = N_TRAIN, seconds: float = CLIP_SECONDS
) -> tuple[list[Clip], list[Clip]]:
    """``(test, train)`` clips of a package's tracks: disjoint 10 s segments.

    Test clips: the middle segment of ``n_test`` tracks spread over the package (with fewer
    tracks, several segments per track, spread over it). Train clips: up to ``n_train`` of the
    remaining segments, spread over every track.
    """
    n = int(round(seconds * CORPUS_RATE))
    # First pass: which tracks have non-silent segments (audio dropped); second: load the chosen ones.
    usable = [(track, starts) for track in tracks if (starts := _segments(track.load(), n))]
    test_tracks = _spread(len(usable), n_test)
    per_track = {t: len(range(i, n_test, len(test_tracks))) for i, t in enumerate(test_tracks)}
    train_tracks = set(_spread(len(usable), n_train))
    test: list[Clip] = []
    spare: list[list[Clip]] = []
    for index, (track, starts) in enumerate(usable):
        if index not in per_track and index not in train_tracks:
            continue
        audio = track.load()
        want = min(per_track.get(index, 0), len(starts))
        chosen = {len(starts) // 2} if want == 1 else set(_spread(len(starts), want)) if want else set()

        def clip(start: int, track: Track = track, audio: np.ndarray = audio) -> Clip:
            return Clip(
                track.package, f"{track.name}@{start / CORPUS_RATE:.0f}s", audio[:, start : start + n].copy()
            )

        test += [clip(starts[i]) for i in sorted(chosen)]
        if index in train_tracks:
            spare.append([clip(starts[i]) for i in range(len(starts)) if i not in chosen])
    train: list[Clip] = []
    while len(train) < n_train and any(spare):  # round robin over tracks, middle segments first
        for clips in spare:
            if clips and len(train) < n_train:
                train.append(clips.pop(len(clips) // 2))
    return test, train


def build_corpus(
    directory: str | Path,
    *,
    packages: Iterable[str] = PACKAGES,
    n_test: int = N_TEST,
    n_train: int = N_TRAIN,
    progress: Callable[[str], None] | None = print,
) -> dict[str, tuple[int, int]]:
    """Write the corpus as FLAC: ``DIRECTORY/{test,train}/PACKAGE/NN-NAME.flac``.

    Hold-out packages get test clips only. Returns ``{package: (n_test, n_train)}`` for the
    packages found; absent packages are skipped (reported through ``progress``).
    """
    from mdctcompand.io import save_audio

    root = Path(directory)
    written: dict[str, tuple[int, int]] = {}
    for package in packages:
        tracks = package_tracks(package)
        if not tracks:
            if progress:
                progress(f"{package}: not installed, skipped ({INSTALL_HINT})")
            continue
        test, train = split_clips(tracks, n_test=n_test, n_train=n_train if package in FIT_PACKAGES else 0)
        for split, clips in (("test", test), ("train", train)):
            for i, clip in enumerate(clips):
                safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in clip.name)
                save_audio(
                    root / split / package / f"{i:02d}-{safe}.flac", clip.audio, CORPUS_RATE, subtype="PCM_24"
                )
        written[package] = (len(test), len(train))
        if progress:
            progress(f"{package}: {len(tracks)} tracks, {len(test)} test and {len(train)} train clips")
    return written


def load_corpus(directory: str | Path, split: str) -> dict[str, list[Clip]]:
    """Clips of a corpus directory written by :func:`build_corpus`: ``{package: [Clip, ...]}``."""
    import soundfile as sf

    out: dict[str, list[Clip]] = {}
    base = Path(directory) / split
    for package in PACKAGES:
        files = sorted((base / package).glob("*.flac")) if (base / package).is_dir() else []
        if files:
            out[package] = [
                Clip(package, f.stem, sf.read(str(f), dtype="float32", always_2d=True)[0].T.copy())
                for f in files
            ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("directory", help="output directory (test/ and train/ are written inside)")
    parser.add_argument("--packages", nargs="+", default=list(PACKAGES), choices=PACKAGES, metavar="PACKAGE")
    parser.add_argument("--n-test", type=int, default=N_TEST)
    parser.add_argument("--n-train", type=int, default=N_TRAIN)
    args = parser.parse_args(argv)
    found = build_corpus(args.directory, packages=args.packages, n_test=args.n_test, n_train=args.n_train)
    if not found:
        print(f"no package installed: {INSTALL_HINT}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
