"""``wav2jpeg`` and ``jpeg2wav``: the codec's command-line tools (also ``mdctcompand encode|decode``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ._common import CLIError, Formatter, add_version, quiet_parent, run

ENCODE_EXAMPLES = """\
examples:
  wav2jpeg song.flac                       # -> song.jpg (about 22 kbit/s for music)
  wav2jpeg song.wav -o song.webp           # format from the extension
  wav2jpeg song.mp3 --bitrate 32           # pick the quality for a target bit rate
  wav2jpeg song.wav --format png           # lossless 8-bit transform
  wav2jpeg *.wav --quality 40 --force      # several files, outputs beside the inputs
"""

DECODE_EXAMPLES = """\
examples:
  jpeg2wav song.jpg                        # -> song.wav, original rate, channels and length
  jpeg2wav song.jpg -o song.flac --subtype PCM_24
  jpeg2wav song.jpg --decoder mmse         # conditional-mean decoding (higher SNR)
"""


def add_encode_arguments(p: argparse.ArgumentParser) -> None:
    from ..codec import EncodeSettings

    d = EncodeSettings()
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="audio files (wav, flac, ogg, mp3, ...)")
    p.add_argument(
        "-o", "--output", help="output image (single input only); default: INPUT with the format's extension"
    )
    p.add_argument(
        "-f",
        "--format",
        choices=("jpeg", "png", "webp", "avif"),
        help="image format (default: from -o, else jpeg)",
    )
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--quality", type=int, default=d.quality, help="image quality 1..100")
    rate.add_argument("--bitrate", type=float, help="target kbit/s (picks the quality)")
    p.add_argument("--tilt", type=float, default=d.tilt, help="compander scale tilt c")
    p.add_argument(
        "--stereo", choices=("mid-side", "left-right", "mono"), default=d.stereo, help="stereo storage"
    )
    p.add_argument("--bandwidth", type=float, help="highest frequency stored (Hz)")
    p.add_argument("--profile", help="GGD profile JSON (default: the shipped one); embedded in the file")
    p.add_argument("--tile-frames", type=int, default=d.tile_frames, help="frames per image tile")
    p.add_argument("--qtable", choices=("flat", "standard"), default=d.qtable, help="JPEG quantization table")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")


def add_decode_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="images written by wav2jpeg")
    p.add_argument("-o", "--output", help="output audio file (single input only); default: INPUT with .wav")
    p.add_argument("--subtype", help="soundfile subtype, e.g. PCM_16, PCM_24, FLOAT (default: the format's)")
    p.add_argument("--decoder", choices=("table", "mmse"), default="table", help="code reconstruction")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")


def _outputs(inputs: list[str], output: str | None, suffix: str) -> list[tuple[Path, Path]]:
    if output is not None and len(inputs) > 1:
        raise CLIError("-o/--output takes a single input; without it outputs go beside the inputs")
    pairs = []
    for name in inputs:
        src = Path(name)
        dst = Path(output) if output else src.with_suffix(suffix)
        if dst.resolve() == src.resolve():
            raise CLIError(f"{src}: output would overwrite the input")
        pairs.append((src, dst))
    return pairs


def _each(prog: str, pairs: list[tuple[Path, Path]], convert, describe) -> int:
    """Run ``convert(src, dst)`` for every pair; one bad input is reported, the others still run.

    A single input raises (the caller prints it and exits 2); with several, failures are
    printed per file and the exit status is 2 if any failed.
    """
    failures = 0
    for src, dst in pairs:
        try:
            result = convert(src, dst)
        except Exception as exc:
            if len(pairs) == 1:
                raise
            print(f"{prog}: error: {src}: {exc}", file=sys.stderr)
            failures += 1
            continue
        if describe is not None:
            print(describe(src, dst, result))
    return 2 if failures else 0


def cmd_encode(args: argparse.Namespace) -> int:
    from ..codec import EncodeSettings, encode_file
    from ..containers import FORMATS, format_from_path
    from ..profile import GGDProfile

    fmt = args.format or (format_from_path(args.output) if args.output else "jpeg")
    profile = GGDProfile.load(args.profile) if args.profile else None
    settings = EncodeSettings(
        format=fmt, quality=args.quality, tilt=args.tilt, stereo=args.stereo, tile_frames=args.tile_frames,
        bandwidth=args.bandwidth, profile=profile, qtable=args.qtable, bitrate=args.bitrate,
    )  # fmt: skip

    def describe(src: Path, dst: Path, info) -> str:
        q = "lossless" if info.quality is None else f"q{info.quality}"
        return f"{src} -> {dst}: {info.duration:.2f} s, {info.bitrate_kbps:.1f} kbit/s ({info.format.upper()} {q})"

    pairs = _outputs(args.inputs, args.output, FORMATS[fmt][1])
    return _each(
        "wav2jpeg", pairs, lambda s, d: encode_file(s, d, overwrite=args.force, settings=settings),
        None if args.quiet else describe,
    )  # fmt: skip


def cmd_decode(args: argparse.Namespace) -> int:
    from ..codec import decode_file

    def describe(src: Path, dst: Path, info) -> str:
        return f"{src} -> {dst}: {info.duration:.2f} s, {info.source_channels} channel(s) at {info.source_sample_rate} Hz"

    def convert(src: Path, dst: Path):
        return decode_file(src, dst, overwrite=args.force, subtype=args.subtype, decoder=args.decoder)

    return _each(
        "jpeg2wav", _outputs(args.inputs, args.output, ".wav"), convert, None if args.quiet else describe
    )


def _encode_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wav2jpeg",
        description="Encode audio as an image of companded MDCT codes (a lossy codec; PNG is lossless).",
        epilog=ENCODE_EXAMPLES,
        formatter_class=Formatter,
        parents=[quiet_parent()],
    )
    add_version(p)
    add_encode_arguments(p)
    return p


def _decode_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jpeg2wav",
        description="Decode an image written by wav2jpeg back to audio (rate, channels and length of the original).",
        epilog=DECODE_EXAMPLES,
        formatter_class=Formatter,
        parents=[quiet_parent()],
    )
    add_version(p)
    add_decode_arguments(p)
    return p


def main_encode(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``wav2jpeg``."""
    return run(lambda a: cmd_encode(_encode_parser().parse_args(a)), argv, "wav2jpeg")


def main_decode(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``jpeg2wav``."""
    return run(lambda a: cmd_decode(_decode_parser().parse_args(a)), argv, "jpeg2wav")


def register(sub: argparse._SubParsersAction) -> None:
    """``mdctcompand encode``, ``decode`` and ``info``."""
    enc = sub.add_parser(
        "encode", parents=[quiet_parent()], help="audio -> image (same as wav2jpeg)", epilog=ENCODE_EXAMPLES,
        formatter_class=Formatter,
    )  # fmt: skip
    add_encode_arguments(enc)
    enc.set_defaults(func=cmd_encode)
    dec = sub.add_parser(
        "decode", parents=[quiet_parent()], help="image -> audio (same as jpeg2wav)", epilog=DECODE_EXAMPLES,
        formatter_class=Formatter,
    )  # fmt: skip
    add_decode_arguments(dec)
    dec.set_defaults(func=cmd_decode)
    info = sub.add_parser(
        "info",
        parents=[quiet_parent()],
        help="what an encoded file holds, and its bit rate",
        formatter_class=Formatter,
    )
    info.add_argument("files", nargs="+", metavar="FILE")
    info.add_argument("--json", action="store_true", help="print the raw metadata as JSON")
    info.set_defaults(func=cmd_info)


def cmd_info(args: argparse.Namespace) -> int:
    import json

    from ..codec import read_info

    for i, name in enumerate(args.files):
        info = read_info(name)
        if args.json:
            print(json.dumps({"file": name, "bitrate_kbps": round(info.bitrate_kbps, 3), **info.metadata}))
            continue
        if i:
            print()
        print(f"{name}:")
        print(info.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main_encode())
