"""Captioned image datasets from captioned audio: MusicCaps ("MDCT-1k") or any (audio, caption) list.

:func:`build_dataset` turns each clip into one or more 8-bit images of the companded MDCT
(512 x 512 by default: about 10.9 s at 24 kHz; longer clips are cut into several
images, shorter ones padded with silence, the padding recorded) and writes a Hugging
Face ``imagefolder`` dataset::

    out/
      train/  *.png, metadata.jsonl     (file_name, caption, source fields, decoding fields)
      test/   *.png, metadata.jsonl     (MusicCaps: is_audioset_eval clips)
      profile.json                      the GGD profile used
      mdctcompand.json                  converter settings and build configuration
      build_log.jsonl                   clips skipped, and why (unreadable, silent, missing)
      README.md                         dataset card with statistics
      .build/                           per-item records that make builds resumable

Every PNG also carries its own decoding parameters (a text chunk), so an image decodes on
its own: ``AudioImageConverter(profile).audio_from_image(PIL.Image.open(path))``.

Rates, profiles and channels (:class:`BuildConfig`): each file is read at its own rate,
which is checked against the profile's (:func:`~mdctcompand.profile.check_rate_served`: an
error naming both if they are more than 32x apart) and resampled to it with soxr; the
profile is chosen by name (``"paper"``: 24 kHz, 0-12 kHz, the paper's MDCT-1k; ``"44k"``,
``"48k"``: full band, 1024 bands) or file. Channel layouts (``stereo``):

``"mono"`` (default, the paper's)
    One grayscale plane (``L`` PNG) of the mean of the channels.
``"left-right"``
    An RGB PNG, bands x frames x 3: red = left, green = right, blue = mid ``(L + R) / 2``,
    each companded with the profile and one level gain for the clip (recorded in the
    header). A 3-channel image model (SD's VAE) gets every plane; the mid plane is
    redundant and lets a model's output be decoded more robustly. Measured with
    ``python -m lab.fullband --sections stereo`` (benchmarks/lab; 44.1 kHz, held-out music,
    8-bit round trip): left/right with a joint gain keeps 38.2 dB, left/right/mid 38.8 dB,
    mid/side 36.5-37.7 dB. :meth:`~mdctcompand.AudioImageConverter.audio_from_image` decodes
    these images from the red and green planes to ``(2, n)`` audio; mono files are stored
    as two equal channels; files of more than two channels are refused (``stereo="mono"``
    downmixes them).

Builds are resumable and safe: every image and every per-item record is written
atomically; a killed build restarted with the same arguments skips finished items and
ends with the same files as an uninterrupted one. Unreadable or silent clips are logged
and skipped. Items run on all cores by default, or on a Dask cluster.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ._fields import option
from .band_gains import TILT_WITHOUT_BAND_GAINS, BandGainMode
from .compand import DEFAULT_ROUNDING
from .exceptions import ParameterError

__all__ = [
    "MUSICCAPS_COLUMNS",
    "BuildConfig",
    "BuildReport",
    "ClipSpec",
    "build_dataset",
    "fetch_musiccaps",
    "read_captions",
    "read_musiccaps",
]

MUSICCAPS_COLUMNS = (
    "ytid", "start_s", "end_s", "audioset_positive_labels", "aspect_list", "caption", "author_id",
    "is_balanced_subset", "is_audioset_eval",
)  # fmt: skip
_AUDIO_EXT = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".m4a", ".opus", ".aiff", ".aif")
_STATE = ".build"
DatasetStereo = Literal["mono", "left-right"]
_DATASET_STEREO = ("mono", "left-right")


@dataclass(frozen=True)
class ClipSpec:
    """One captioned source clip.

    Attributes
    ----------
    id : str
        Unique, filesystem-safe identifier (MusicCaps: the YouTube id).
    audio : Path
        Audio file.
    caption : str
        Text caption.
    split : str
        ``"train"`` or ``"test"``.
    start, end : float or None
        Seconds to take from the file (``None``: from the start / to the end).
    source : dict
        Extra fields copied to the metadata (MusicCaps: labels, aspects, author...).

    Examples
    --------
    >>> from pathlib import Path
    >>> ClipSpec("abc", Path("abc.wav"), "a calm piano", split="test").split
    'test'
    """

    id: str
    audio: Path
    caption: str
    split: str = "train"
    start: float | None = None
    end: float | None = None
    source: dict = field(default_factory=dict)


def _safe_id(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._")[:80]
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    return f"{cleaned}-{digest}" if cleaned else digest


def _find_audio(audio_dir: Path, stem: str) -> Path | None:
    for ext in _AUDIO_EXT:
        p = audio_dir / f"{stem}{ext}"
        if p.is_file():
            return p
    return None


def _truthy(value: str) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "t")


def read_musiccaps(
    csv_path: str | os.PathLike, audio_dir: str | os.PathLike
) -> tuple[list[ClipSpec], list[dict]]:
    """Clips of a MusicCaps-format CSV whose audio is in ``audio_dir`` (as ``ID.wav`` etc.).

    Files written by :func:`fetch_musiccaps` hold just the clip; a longer file (the whole
    video) is cut at ``start_s .. end_s``. Rows with ``is_audioset_eval`` true go to the test
    split. Returns the clips and, for rows whose audio is missing, log records.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (tmp / "mc.csv").write_text("ytid,start_s,end_s,caption,is_audioset_eval\\nabc,30,40,a song,True\\n")
    >>> specs, log = read_musiccaps(tmp / "mc.csv", tmp)  # no abc.wav yet
    >>> specs, log[0]["status"]
    ([], 'missing')
    """
    path = Path(csv_path)
    audio_dir = Path(audio_dir)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [
                c for c in ("ytid", "start_s", "end_s", "caption") if c not in (reader.fieldnames or [])
            ]
            if missing:
                raise ParameterError(f"{path}: not a MusicCaps CSV (missing columns {', '.join(missing)})")
            rows, line = [], 1
            for row in reader:
                rows.append((line + 1, row))  # (the row's first line, row)
                line = reader.line_num
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ParameterError(f"{path}: cannot read CSV ({exc})") from exc
    specs, log = [], []
    seen: dict[str, int] = {}
    for n, row in rows:
        ytid = row["ytid"].strip()
        if not ytid:
            log.append({"id": f"line-{n}", "status": "skipped", "reason": f"{path}: line {n} has no ytid"})
            continue
        if ytid in seen:
            log.append(
                {
                    "id": ytid,
                    "status": "skipped",
                    "reason": f"{path}: line {n} repeats the ytid of line {seen[ytid]} (the first is used)",
                }
            )
            continue
        seen[ytid] = n
        audio = _find_audio(audio_dir, ytid)
        if audio is None:
            log.append({"id": ytid, "status": "missing", "reason": f"no audio file {ytid}.* in {audio_dir}"})
            continue
        try:
            start, end = float(row["start_s"]), float(row["end_s"])
        except (TypeError, ValueError):
            reason = f"{path}: line {n}: bad start_s/end_s {row['start_s']!r}/{row['end_s']!r}"
            log.append({"id": ytid, "status": "skipped", "reason": reason})
            continue
        source = {k: row[k] for k in MUSICCAPS_COLUMNS if k in row and k not in ("caption",)}
        specs.append(
            ClipSpec(
                id=ytid,
                audio=audio,
                caption=row["caption"],
                split="test" if _truthy(row.get("is_audioset_eval", "")) else "train",
                start=start,
                end=end,
                source=source,
            )
        )
    return specs, log


def read_captions(
    path: str | os.PathLike, audio_dir: str | os.PathLike | None = None
) -> tuple[list[ClipSpec], list[dict]]:
    """Clips of a CSV or JSONL of (audio path, caption[, split]).

    The audio column may be called ``audio``, ``file``, ``path`` or ``file_name``; relative
    paths are taken from ``audio_dir`` (default: the list's directory).

    Examples
    --------
    >>> import tempfile, pathlib, soundfile as sf
    >>> from mdctcompand.testing import make_signal
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> sf.write(tmp / "a.wav", make_signal("mixture", 48000, 48000), 48000)
    >>> _ = (tmp / "caps.csv").write_text("audio,caption,split\\na.wav,a tone,test\\nb.wav,missing,train\\n")
    >>> specs, log = read_captions(tmp / "caps.csv")
    >>> [(s.caption, s.split) for s in specs], log[0]["status"]
    ([('a tone', 'test')], 'missing')
    """
    path = Path(path)
    base = Path(audio_dir) if audio_dir is not None else path.parent
    rows: list[tuple[int, Any]] = []  # (line of the file, row)
    try:
        if path.suffix.lower() in (".jsonl", ".json"):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if line.strip():
                    try:
                        rows.append((n, json.loads(line)))
                    except ValueError as exc:
                        raise ParameterError(f"{path}: line {n} is not JSON ({exc})") from exc
        else:
            with open(path, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                last = 1  # the header's last line
                for row in reader:
                    rows.append((last + 1, row))  # the row's first line
                    last = reader.line_num
    except (FileNotFoundError, ParameterError):
        raise
    except (OSError, ValueError, csv.Error) as exc:
        raise ParameterError(f"{path}: cannot read caption list ({exc})") from exc
    specs, log = [], []
    lines_of: dict[str, list[int]] = {}
    for n, row in rows:
        if not isinstance(row, dict):
            raise ParameterError(f"{path}: line {n} is not an object")
        key = next((k for k in ("audio", "file", "path", "file_name") if k in row), None)
        if key is None or "caption" not in row:
            raise ParameterError(f"{path}: line {n} needs an audio path (audio/file/path) and a caption")
        audio = Path(str(row[key]))
        audio = audio if audio.is_absolute() else base / audio
        ident = _safe_id(str(row[key]))
        lines_of.setdefault(str(row[key]), []).append(n)
        if not audio.is_file():
            log.append({"id": ident, "status": "missing", "reason": f"{audio}: no such file"})
            continue
        split = str(row.get("split", "train")) or "train"
        if split not in ("train", "test", "validation"):
            raise ParameterError(f"{path}: line {n}: split {split!r} must be train, test or validation")
        extra = {k: v for k, v in row.items() if k not in (key, "caption", "split")}
        specs.append(
            ClipSpec(ident, audio, str(row["caption"]), split, source={"audio": str(row[key]), **extra})
        )
    repeated = {name: lines for name, lines in lines_of.items() if len(lines) > 1}
    if repeated:
        listed = "; ".join(
            f"{name!r} on lines {', '.join(map(str, lines))}" for name, lines in list(repeated.items())[:5]
        )
        more = f" (and {len(repeated) - 5} more)" if len(repeated) > 5 else ""
        raise ParameterError(
            f"{path}: {len(repeated)} audio file(s) listed more than once: {listed}{more}; "
            "a clip's images are named after its file, so list each file once (one caption per file)"
        )
    return specs, log


@dataclass(frozen=True)
class BuildConfig:
    """How clips become images.

    Attributes
    ----------
    frames : int
        Image width in frames (512: about 10.9 s at 24 kHz, hop 512).
    profile : str
        A shipped profile's name (``"paper"``, the default and the paper's 24 kHz profile;
        ``"44k"``; ``"48k"``; see :func:`~mdctcompand.load_profile`) or a profile JSON file.
        The default is not chosen from the input's rate: 44.1/48 kHz sources would give
        1024-band images, which the paper's recipe (SD 1.5 at 512 x 512) does not take
        (docs/datasets.rst, "Full band and stereo").
    tilt : float, default 4
        Compander scale tilt (:data:`~mdctcompand.band_gains.TILT_WITHOUT_BAND_GAINS`).
    band_gains : {"none", "clip"}, default "none"
        ``"none"``: every clip companded at the profile's level, so that images a model
        generates decode on their own (held-out music: median 35.9 dB or more per package,
        worst clip 34.2 dB at 24 kHz); ``"clip"``: per-clip band-group gains in each PNG's
        header (38.9 / 38.1 dB; images a model generates have no such header). See
        :mod:`mdctcompand.band_gains` and ``python -m lab.genres`` (``benchmarks/lab``).
    rounding : {"round", "floor"}
        Quantizer convention.
    level : str or None
        Level normalization (default: the profile's).
    silence_db : float
        Clips quieter than this RMS (dBFS) are skipped.
    png_compression : int
        zlib level of the PNGs (0-9; 1 is fast, companded codes barely compress anyway).
    stereo : {"mono", "left-right"}
        Channel layout of the images (see the module docstring): ``"mono"`` grayscale,
        ``"left-right"`` RGB planes (left, right, mid).

    Examples
    --------
    >>> BuildConfig(frames=256).converter().max_samples(256)
    130560
    >>> BuildConfig(profile="44k", stereo="left-right").converter().channels
    ChannelLayout(mode='left-right', arrangement='planes')
    >>> BuildConfig(stereo="mid-side")
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.ParameterError: stereo='mid-side' must be one of ('mono', 'left-right')
    """

    # ``option(default, help, ...)``: ``mdctcompand dataset build``'s flags, defaults and help come from here.
    frames: int = option(512, "image width in frames (512: about 10.9 s)")
    profile: str = option(
        "paper", "GGD profile: a shipped name (paper: 24 kHz, the paper's; 44k, 48k: full band) or a JSON file"
    )
    tilt: float = option(
        TILT_WITHOUT_BAND_GAINS, "compander scale tilt c (default: 4 without band gains, 3 with)", cli_default=None
    )
    rounding: str = option(DEFAULT_ROUNDING, "quantizer convention", choices=("round", "floor"))
    level: str | None = option(None, "level normalization, e.g. rms:-20 or peak:-1 (default: the profile's)")
    silence_db: float = option(-60.0, "clips quieter than this RMS (dBFS) are skipped", metavar="DB")
    png_compression: int = option(1, "zlib level of the PNGs, 0-9 (1: fast; codes barely compress)", metavar="N")
    stereo: DatasetStereo = option(
        "mono", "image layout: mono (grayscale, the paper's) or left-right (RGB: left, right, mid)"
    )
    band_gains: BandGainMode = option(
        "none", "none: images at the profile's level, which a model's images decode with (default); clip: per-clip "
        "band-group gains in each PNG's header (a better round trip, not for generation)",
    )  # fmt: skip

    def __post_init__(self) -> None:
        if self.stereo not in _DATASET_STEREO:
            raise ParameterError(f"stereo={self.stereo!r} must be one of {_DATASET_STEREO}")
        if self.band_gains not in ("none", "clip"):
            raise ParameterError(f"band_gains={self.band_gains!r} must be 'none' or 'clip'")
        if isinstance(self.png_compression, bool) or self.png_compression not in range(10):
            raise ParameterError(f"png_compression={self.png_compression!r} must be an integer 0..9")
        if isinstance(self.silence_db, bool) or not -200 <= self.silence_db <= 0:
            raise ParameterError(f"silence_db={self.silence_db!r} must be a level in dBFS, -200..0")

    def converter(self):
        """The :class:`~mdctcompand.AudioImageConverter` these settings describe.

        Examples
        --------
        >>> BuildConfig().converter().compander.tilt, BuildConfig().converter().band_gains
        (4.0, None)
        """
        from .channels import ChannelLayout
        from .converter import AudioImageConverter

        channels = ChannelLayout(self.stereo, arrangement="planes")
        return AudioImageConverter(
            self.profile, tilt=self.tilt, rounding=self.rounding, level=self.level, channels=channels,
            band_gains=self.band_gains,
        )  # fmt: skip


@dataclass
class BuildReport:
    """What a build did: counts, and the log of skipped clips.

    Examples
    --------
    >>> from pathlib import Path
    >>> print(BuildReport(Path("out"), {"train": 9, "test": 1}, 10, 0, []).summary())
    out: 1 test, 9 train images from 10 clips (0 reused from an earlier run), 0 skipped
    """

    out_dir: Path
    images: dict[str, int]
    clips: int
    reused: int
    skipped: list[dict]

    def summary(self) -> str:
        """One line: images per split, clips, reused and skipped counts.

        Examples
        --------
        >>> from pathlib import Path
        >>> BuildReport(Path("d"), {"train": 2}, 2, 2, [{"id": "x"}]).summary()
        'd: 2 train images from 2 clips (2 reused from an earlier run), 1 skipped'
        """
        parts = ", ".join(f"{v} {k}" for k, v in sorted(self.images.items()))
        return (
            f"{self.out_dir}: {parts} images from {self.clips} clips ({self.reused} reused from an earlier run), "
            f"{len(self.skipped)} skipped"
        )


# ---------------------------------------------------------------------- items
def _load_clip(spec: ClipSpec, conv: Any, stereo: str) -> tuple[np.ndarray, int]:
    """The clip as ``(channels, n)`` at the converter's rate (mono: one channel), and the file's rate."""
    from .io import audio_info, load_audio, resample
    from .profile import check_rate_served

    info = audio_info(spec.audio)
    offset, duration = 0.0, None
    if spec.start is not None and spec.end is not None and spec.end > spec.start:
        wanted = spec.end - spec.start
        if info.duration > wanted + 1.0:  # the whole recording: cut the clip out of it
            offset, duration = spec.start, wanted
    if stereo != "mono" and info.channels > 2:
        raise ParameterError(
            f"{info.channels} channels: stereo='{stereo}' stores stereo only; stereo='mono' downmixes any number"
        )
    audio, rate = load_audio(spec.audio, mono=stereo == "mono", offset=offset, duration=duration, always_2d=True)
    check_rate_served(conv.profile, rate)  # the file's rate, explicitly; refused if too far from the profile's
    audio = resample(audio, rate, conv.sample_rate)
    if stereo != "mono" and audio.shape[0] == 1:
        audio = np.repeat(audio, 2, axis=0)  # mono files: two equal channels
    return audio, rate


def _stereo_image(conv: Any, piece: np.ndarray, frames: int) -> Any:
    """RGB image of a ``(2, n)`` piece: left, right (the converter's planes) and their mid
    (:meth:`~mdctcompand.ChannelLayout.mid`), coded with the same level and band gains."""
    from PIL import Image

    from .converter import METADATA_KEY
    from .header import AudioImageHeader

    image = conv.image_from_audio(piece, sample_rate=conv.sample_rate, n_frames=frames)  # "LA": left, right
    header = AudioImageHeader.from_json(image.info[METADATA_KEY])
    padded = np.zeros(conv.max_samples(frames), np.float32)
    padded[: piece.shape[1]] = conv.channels.mid(piece)[0]
    band = None if header.band_gains is None else np.mean(header.band_gains[0], axis=0)  # of left and right
    mid = conv.codes_from_coefficients(conv.mdct.forward(padded), gain=header.gains[0][0], band_gains=band)
    rgb = Image.fromarray(np.dstack([np.asarray(image), mid]), mode="RGB")
    rgb.info[METADATA_KEY] = image.info[METADATA_KEY]
    return rgb


def _item_files(spec: ClipSpec, n_images: int) -> list[str]:
    return [f"{spec.split}/{spec.id}_{j:02d}.png" for j in range(n_images)]


def process_item(job: tuple[ClipSpec, BuildConfig, str]) -> list[dict]:
    """Transform one clip into image files and return its metadata rows (runs on a worker)."""
    from .converter import METADATA_KEY
    from .header import AudioImageHeader

    spec, config, out = job
    out_dir = Path(out)
    conv = _converter(config)
    audio, source_rate = _load_clip(spec, conv, config.stereo)
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    if rms < 10 ** (config.silence_db / 20):
        raise _Skip(f"silent (RMS {20 * np.log10(max(rms, 1e-12)):.0f} dBFS)")
    capacity = conv.max_samples(config.frames)
    n_images = -(-audio.shape[1] // capacity)
    rows = []
    for j, name in enumerate(_item_files(spec, n_images)):
        piece = audio[:, j * capacity : (j + 1) * capacity]
        if config.stereo == "mono":
            image = conv.image_from_audio(piece[0], sample_rate=conv.sample_rate, n_frames=config.frames)
        else:
            image = _stereo_image(conv, piece, config.frames)
        header = AudioImageHeader.from_json(image.info[METADATA_KEY])
        target = out_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        conv.save_image(image, target, compress_level=config.png_compression)
        rows.append(
            {
                "file_name": Path(name).name,
                "caption": spec.caption,
                "clip_id": spec.id,
                "segment": j,
                "segments": n_images,
                "start_in_clip_s": round(j * capacity / conv.sample_rate, 6),
                "length": int(piece.shape[1]),
                "padding": int(capacity - piece.shape[1]),
                "gain": header.gains[0][0],
                "sample_rate": conv.sample_rate,
                "source_sample_rate": source_rate,
                "channels": int(piece.shape[0]),
                **{k: v for k, v in spec.source.items() if k not in ("caption",)},
            }
        )
    record = out_dir / _STATE / "items" / f"{spec.id}.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    _write_text(record, json.dumps({"split": spec.split, "rows": rows}))
    return rows


class _Skip(Exception):
    """A clip that is not an error but is not used (silent)."""


_CONVERTERS: dict[str, Any] = {}


def _converter(config: BuildConfig):
    key = json.dumps(asdict(config), sort_keys=True)
    if key not in _CONVERTERS:
        _CONVERTERS[key] = config.converter()
    return _CONVERTERS[key]


def _finished(spec: ClipSpec, out_dir: Path) -> list[dict] | None:
    record = out_dir / _STATE / "items" / f"{spec.id}.json"
    if not record.is_file():
        return None
    try:
        data = json.loads(record.read_text())
    except ValueError:
        return None
    rows = data.get("rows", [])
    if data.get("split") != spec.split or not rows:
        return None
    if all((out_dir / spec.split / r["file_name"]).is_file() for r in rows):
        return rows
    return None


# ---------------------------------------------------------------------- build
def build_dataset(
    specs: Iterable[ClipSpec],
    out_dir: str | os.PathLike,
    *,
    config: BuildConfig | None = None,
    workers: int = -1,
    scheduler: str | None = None,
    progress: bool = True,
    log: Iterable[dict] = (),
    name: str = "MDCT dataset",
) -> BuildReport:
    """Build (or resume building) an imagefolder dataset from captioned clips.

    Parameters
    ----------
    specs : iterable of ClipSpec
        From :func:`read_musiccaps` or :func:`read_captions`.
    out_dir : path
        Output directory (created; an earlier build with the same configuration resumes).
    config : BuildConfig, optional
        Image geometry and transform settings.
    workers : int, default -1
        Processes (``-1``: all cores).
    scheduler : str, optional
        Dask scheduler address, or ``"local"``.
    progress : bool
        tqdm progress bar with ETA.
    log : iterable of dict
        Earlier log records (e.g. missing audio from the readers) to include in ``build_log.jsonl``.
    name : str
        Dataset name for the card.

    Returns
    -------
    BuildReport

    Examples
    --------
    >>> import tempfile, pathlib, soundfile as sf
    >>> from mdctcompand.testing import make_signal
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> sf.write(tmp / "a.wav", make_signal("mixture", 48000, 48000), 48000)
    >>> _ = (tmp / "caps.jsonl").write_text('{"audio": "a.wav", "caption": "a calm song"}\\n')
    >>> specs, log = read_captions(tmp / "caps.jsonl")
    >>> report = build_dataset(specs, tmp / "data", workers=1, progress=False)
    >>> report.images, sorted(p.name for p in (tmp / "data" / "train").iterdir())
    ({'train': 1}, ['a.wav-..._00.png', 'metadata.jsonl'])
    """
    from tqdm.auto import tqdm

    from .parallel import imap_unordered

    config = config or BuildConfig()
    conv = config.converter()  # validates the settings before any work
    conv.max_samples(config.frames)  # validates the image width
    specs = list(specs)
    _check_unique_ids(specs)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"{out}: exists and is not a directory (the dataset is a directory)")
    out.mkdir(parents=True, exist_ok=True)
    settings_path = out / "mdctcompand.json"
    settings = {"build": asdict(config), "converter": conv.settings() | {"profile_id": conv.profile.id}}
    settings["converter"].pop("profile")
    if settings_path.is_file():
        earlier = json.loads(settings_path.read_text())
        earlier_converter = dict(earlier.get("converter") or {})
        if conv.profile.matches_id(str(earlier_converter.get("profile_id"))):
            earlier_converter["profile_id"] = conv.profile.id  # built by 0.1, which hashed the exact values
        if earlier.get("build") != settings["build"] or earlier_converter != settings["converter"]:
            raise ParameterError(
                f"{out} holds a dataset built with other settings ({settings_path}); use a new directory"
            )
    _write_json(settings_path, settings)
    for stale in out.glob("*/.*.part"):  # temporary files of a build that was killed mid-write
        stale.unlink(missing_ok=True)
    done: dict[str, list[dict]] = {}
    todo = []
    for spec in specs:
        rows = _finished(spec, out)
        if rows is None:
            todo.append(spec)
        else:
            done[spec.id] = rows
    reused = len(done)
    skipped = list(log)
    with tqdm(total=len(specs), initial=reused, desc="building", unit="clip", disable=not progress) as bar:
        jobs = ((spec, config, str(out)) for spec in todo)
        for index, result in imap_unordered(process_item, jobs, workers=workers, scheduler=scheduler):
            spec = todo[index]
            if isinstance(result, _Skip):
                skipped.append({"id": spec.id, "status": "skipped", "reason": str(result)})
            elif isinstance(result, Exception):
                skipped.append(
                    {"id": spec.id, "status": "failed", "reason": f"{type(result).__name__}: {result}"}
                )
            else:
                done[spec.id] = result
            bar.update()
    by_split: dict[str, list[dict]] = {}
    for spec in sorted(specs, key=lambda s: s.id):
        if spec.id in done:
            by_split.setdefault(spec.split, []).extend(done[spec.id])
    for split, rows in by_split.items():
        text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
        _write_text(out / split / "metadata.jsonl", text)
    conv.profile.save(out / "profile.json")
    skipped.sort(key=lambda r: r["id"])
    _write_text(out / "build_log.jsonl", "".join(json.dumps(r, sort_keys=True) + "\n" for r in skipped))
    _write_text(out / "README.md", _dataset_card(name, by_split, skipped, conv, config))
    return BuildReport(out, {k: len(v) for k, v in by_split.items()}, len(done), reused, skipped)


def _check_unique_ids(specs: list[ClipSpec]) -> None:
    """Refuse clips that share an id (their images and records would overwrite each other).

    Examples
    --------
    >>> from pathlib import Path
    >>> _check_unique_ids([ClipSpec("a", Path("x.wav"), "one"), ClipSpec("a", Path("y.wav"), "two")])
    Traceback (most recent call last):
    ...
    mdctcompand.exceptions.ParameterError: clip ids are not unique: 'a' (clips 1 and 2: x.wav, y.wav); ...
    """
    where: dict[str, list[int]] = {}
    for i, spec in enumerate(specs):
        where.setdefault(spec.id, []).append(i)
    repeated = {k: v for k, v in where.items() if len(v) > 1}
    if not repeated:
        return
    parts = []
    for ident, idx in list(repeated.items())[:5]:
        numbers = ", ".join(str(i + 1) for i in idx[:-1]) + f" and {idx[-1] + 1}"
        files = ", ".join(str(specs[i].audio) for i in idx)
        parts.append(f"{ident!r} (clips {numbers}: {files})")
    more = f" and {len(repeated) - 5} more" if len(repeated) > 5 else ""
    raise ParameterError(
        f"clip ids are not unique: {'; '.join(parts)}{more}; each id names a clip's images, give every clip its own"
    )


def _write_text(path: Path, text: str) -> None:
    from .io import atomic_output

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, overwrite=True) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _write_json(path: Path, data: Any) -> None:
    _write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


def _dataset_card(
    name: str, by_split: dict[str, list[dict]], skipped: list[dict], conv: Any, config: BuildConfig
) -> str:
    sr = conv.sample_rate
    lines = [
        "---",
        "task_categories:",
        "- text-to-image",
        "- text-to-audio",
        "tags:",
        "- audio",
        "- music",
        "- mdct",
        "- mdctcompand",
        "---",
        "",
        f"# {name}",
        "",
        "Captioned music clips as 8-bit images of the companded MDCT (mdctcompand): one "
        + ("grayscale PNG (mono)" if config.stereo == "mono" else "RGB PNG (red left, green right, blue mid)")
        + " per",
        f"{conv.max_samples(config.frames) / sr:.2f} s of audio, {conv.n_bands} bands (0-{sr // 2} Hz, low frequencies at",
        f"the bottom) x {config.frames} frames (time left to right), {sr} Hz, frame {conv.mdct.frame_length}, hop",
        f"{conv.hop_length}; GGD companding with tilt c = {conv.compander.tilt:g}, level {conv.level}, profile",
        f"`{conv.profile.name}` (id `{conv.profile.id}`, in `profile.json`).",
        "",
        "## Statistics",
        "",
        "| split | images | clips | audio (h) | padded fraction |",
        "|---|---:|---:|---:|---:|",
    ]
    for split in sorted(by_split):
        rows = by_split[split]
        clips = len({r["clip_id"] for r in rows})
        seconds = sum(r["length"] for r in rows) / sr
        padding = sum(r["padding"] for r in rows) / max(1, sum(r["length"] + r["padding"] for r in rows))
        lines.append(f"| {split} | {len(rows)} | {clips} | {seconds / 3600:.2f} | {padding:.3f} |")
    reasons: dict[str, int] = {}
    for r in skipped:
        reasons[r["status"]] = reasons.get(r["status"], 0) + 1
    lines += [
        "",
        f"Clips not used: {len(skipped)} "
        + (f"({', '.join(f'{v} {k}' for k, v in sorted(reasons.items()))})" if reasons else "")
        + "; see `build_log.jsonl`.",
        "",
        "## Use",
        "",
        "```python",
        "from datasets import load_dataset",
        "from mdctcompand import AudioImageConverter",
        "",
        'ds = load_dataset("imagefolder", data_dir="PATH/TO/THIS/DIRECTORY")',
        'conv = AudioImageConverter("PATH/TO/THIS/DIRECTORY/profile.json", tilt='
        + f"{conv.compander.tilt:g})",
        'row = ds["train"][0]',
        'audio = conv.audio_from_image(row["image"])  # gain and length travel in the PNG',
        "```",
        "",
        "Random horizontal flips reverse time and are not valid MDCT data: keep them off when training.",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------- fetch
def fetch_musiccaps(
    csv_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    downloader: str = "yt-dlp",
    retries: int = 3,
    backoff_s: float = 2.0,
    skip_list: str | os.PathLike | None = None,
    retry_failed: bool = False,
    jobs: int = 4,
    limit: int | None = None,
    progress: bool = True,
) -> dict[str, int]:
    """Download MusicCaps clips with yt-dlp as ``out_dir/YTID.wav`` (only the clip's section).

    Existing files are never downloaded again; ids in ``skip_list`` (one per line) and ids
    that failed permanently before (``fetch_failures.jsonl``, unless ``retry_failed``) are
    skipped; each download is retried ``retries`` times with exponential backoff and written
    atomically. Returns counts: downloaded, existing, skipped, failed.

    Examples
    --------
    >>> counts = fetch_musiccaps("musiccaps-public.csv", "musiccaps/", jobs=8)  # doctest: +SKIP
    >>> counts  # doctest: +SKIP
    {'downloaded': 5402, 'existing': 0, 'skipped': 0, 'failed': 119}
    """
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    exe = shutil.which(downloader)
    if exe is None:
        raise ParameterError(
            f"{downloader!r} is not installed or not on PATH: pip install yt-dlp (it also needs ffmpeg)"
        )
    rows = _musiccaps_rows(Path(csv_path))  # read (and refused) before anything is written
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if limit is not None:
        rows = rows[: int(limit)]
    skip = set()
    if skip_list is not None:
        skip |= {
            line.strip()
            for line in Path(skip_list).read_text().splitlines()
            if line.strip() and not line.startswith("#")
        }
    failures_path = out / "fetch_failures.jsonl"
    if failures_path.is_file() and not retry_failed:
        for line in failures_path.read_text().splitlines():
            if line.strip():
                skip.add(json.loads(line)["ytid"])
    counts = {"downloaded": 0, "existing": 0, "skipped": 0, "failed": 0}
    todo = []
    for row in rows:
        if _find_audio(out, row["ytid"]) is not None:
            counts["existing"] += 1
        elif row["ytid"] in skip:
            counts["skipped"] += 1
        else:
            todo.append(row)

    def one(row: dict) -> tuple[dict, str | None, int]:
        return (row, *_download(exe, row, out, retries, backoff_s))

    failures = []
    with (
        ThreadPoolExecutor(max_workers=max(1, jobs)) as pool,
        tqdm(total=len(todo), desc="fetching", unit="clip", disable=not progress) as bar,
    ):
        for row, error, attempts in pool.map(one, todo):
            if error is None:
                counts["downloaded"] += 1
            else:
                counts["failed"] += 1
                failures.append({"ytid": row["ytid"], "attempts": attempts, "error": error})
            bar.update()
    if failures:
        with open(failures_path, "a", encoding="utf-8") as f:
            for record in failures:
                f.write(json.dumps(record) + "\n")
    return counts


def _musiccaps_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not {"ytid", "start_s", "end_s"} <= set(reader.fieldnames or []):
            raise ParameterError(f"{path}: not a MusicCaps CSV (needs ytid, start_s, end_s)")
        rows, seen = [], set()
        for row in reader:
            if row["ytid"] and row["ytid"] not in seen:
                seen.add(row["ytid"])
                rows.append(row)
        return rows


def _download(exe: str, row: dict, out: Path, retries: int, backoff_s: float) -> tuple[str | None, int]:
    """Download one clip; returns (error or None, attempts)."""
    import shutil
    import subprocess
    import tempfile
    import time

    ytid = row["ytid"]
    start, end = float(row["start_s"]), float(row["end_s"])
    error = None
    for attempt in range(1, retries + 2):
        with tempfile.TemporaryDirectory(dir=out, prefix=".fetch-") as tmp:
            cmd = [
                exe, "--quiet", "--no-warnings", "--no-playlist", "-x", "--audio-format", "wav",
                "--download-sections", f"*{start:g}-{end:g}", "--force-keyframes-at-cuts",
                "-o", str(Path(tmp) / f"{ytid}.%(ext)s"), f"https://www.youtube.com/watch?v={ytid}",
            ]  # fmt: skip
            try:
                result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            except subprocess.TimeoutExpired:
                error = "timed out after 600 s"
            else:
                produced = _find_audio(Path(tmp), ytid)
                if result.returncode == 0 and produced is not None:
                    shutil.move(str(produced), str(out / f".{ytid}.part"))
                    os.replace(out / f".{ytid}.part", out / f"{ytid}{produced.suffix}")
                    return None, attempt
                error = (result.stderr or result.stdout or f"exit status {result.returncode}").strip()[-500:]
        if attempt <= retries:
            time.sleep(backoff_s * 2 ** (attempt - 1))
    return error, retries + 1
