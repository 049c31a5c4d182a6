"""Fuzzing the decoder with hostile files: ``python tests/fuzzing.py [--cases 2400]``.

Builds valid files of every container (JPEG/MPO, PNG/APNG, WebP, AVIF; mono and stereo; one
and several tiles; a non-shipped profile embedded in the file), then decodes hostile
inputs made from them: crafted headers (huge lengths and rates, tiny gains, deep JSON,
wrong types, broken embedded profiles), hostile containers (huge frames, frame counts
that lie) and random byte mutations. Each input goes through the public decoder API,
:func:`~mdctcompand.codec.read_info`, :func:`~mdctcompand.codec.decode` and
:func:`~mdctcompand.codec.decode_file`, and through the ``jpeg2wav`` command (its console-script
entry point, as installed; ``--subprocess N``: also in a fresh process). It reports:

- exceptions other than the library's (:class:`~mdctcompand.MdctCompandError`): target 0;
- ``jpeg2wav`` runs ending in a traceback (an exception escaping the entry point): target 0;
- outputs (or temporary files) left behind by a failed ``decode_file``/``jpeg2wav``: target 0;
- the largest input and the peak resident memory of the process: target < 600 MB for
  inputs < 1 MB.

``tests/test_fuzz.py`` runs the same cases (fewer of them) in the test suite; this module is
its helper (not part of the package) and, run as a script, the long campaign.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import struct
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from mdctcompand import codec
from mdctcompand.containers import assemble, encode_tile
from mdctcompand.exceptions import MdctCompandError
from mdctcompand.formats import available_formats
from mdctcompand.profile import GGDProfile, default_profile
from mdctcompand.testing import make_signal

__all__ = ["crafted_cases", "hostile_containers", "jpeg2wav", "mutate", "run_case", "seed_files"]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and the CRC-32 of type and data (PNG specification, 5.3).

    Examples
    --------
    >>> png_chunk(b"IEND", b"").hex()
    '0000000049454e44ae426082'
    """
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def jpeg2wav() -> Any:
    """The ``jpeg2wav`` command's entry point as installed (``argv -> exit status``).

    Loaded from the package's console scripts, as the ``jpeg2wav`` executable loads it.

    Examples
    --------
    >>> callable(jpeg2wav())
    True
    """
    from importlib.metadata import entry_points

    (entry,) = entry_points(group="console_scripts", name="jpeg2wav")
    return entry.load()


_JPEG2WAV = (
    "import sys; from importlib.metadata import entry_points; "
    "(e,) = entry_points(group='console_scripts', name='jpeg2wav'); sys.exit(e.load()())"
)


def jpeg2wav_command() -> list[str]:
    """The ``jpeg2wav`` executable beside this Python (or on ``PATH``), else this Python loading its entry point.

    Examples
    --------
    >>> command = jpeg2wav_command()
    >>> command[0].endswith("jpeg2wav") or command[1:2] == ["-c"]
    True
    """
    import os
    import shutil
    import sys

    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which("jpeg2wav", path=path)
    return [found] if found else [sys.executable, "-c", _JPEG2WAV]


def seed_files() -> dict[str, bytes]:
    """Small valid files of every container and layout (name -> bytes).

    Examples
    --------
    >>> sorted(seed_files())[:4]  # doctest: +SKIP
    ['avif-mono', 'jpeg-mono', 'jpeg-mono-band', 'jpeg-stereo-tiles']
    >>> {"jpeg-mono", "png-stereo-tiles", "png-profile"} <= set(seed_files())
    True
    """
    mono = make_signal("mixture", 6000, 24000, 1).astype(np.float32)
    stereo = np.stack([make_signal("mixture", 16000, 22050, 2), 0.2 * make_signal("noise", 16000, 22050, 3)])
    p = default_profile()
    custom = GGDProfile(p.shape, p.scale * 1.3, sample_rate=24000, frame_length=1024, name="custom")
    out = {
        "jpeg-mono": codec.encode(mono, 24000, quality=40),
        "jpeg-stereo-tiles": codec.encode(stereo, 22050, tile_frames=16, quality=40),
        "png-stereo-tiles": codec.encode(stereo, 22050, format="png", tile_frames=16),
        "png-profile": codec.encode(mono, 24000, format="png", profile=custom, bandwidth=4000),
        "jpeg-mono-band": codec.encode(mono, 16000, bandwidth=3000, stereo="mono"),
    }
    if "webp" in available_formats():
        out["webp-tiles"] = codec.encode(stereo, 22050, format="webp", tile_frames=16, quality=30)
    if "avif" in available_formats():
        out["avif-mono"] = codec.encode(mono, 24000, format="avif", quality=40)
    return out


def _with_header(meta: Any, fmt: str = "jpeg", shape: tuple[int, int] = (512, 16), n_tiles: int = 1) -> bytes:
    text = meta if isinstance(meta, str) else json.dumps(meta)
    if len(text.encode()) > 60_000:
        fmt = "png"  # a JPEG comment holds 64 KB
    pixels = np.full(shape, 128, np.uint8)
    tiles = [encode_tile(pixels, fmt, quality=90, metadata=text)]
    tiles += [encode_tile(pixels, fmt, quality=90) for _ in range(n_tiles - 1)]
    return assemble(fmt, tiles)


def crafted_cases() -> list[tuple[str, bytes]]:
    """Files with crafted headers around a valid one (name, bytes).

    Examples
    --------
    >>> len(crafted_cases()) > 80
    True
    """
    # one 512 x 16 JPEG tile (48 kbit/s: full band), with version-3 side information
    base = codec.read_info(codec.encode(make_signal("mixture", 7000, 24000, 4), 24000, bitrate=48)).metadata
    side = base["side_info"][0]
    custom = codec.read_info(seed_files()["png-profile"]).metadata
    values: dict[str, list[Any]] = {
        "source_length": [10**9, 10**18, 2**64, -1, 0, 1.5, "7000", None, [7000]],
        "length": [10**9, 10**7, 0, 7001 * 100, -5, 1e300],
        "source_sample_rate": [10**7, 0, 768_001, 1e300, -24000, True, 1, 750, 768_000],
        "sample_rate": [48000, 1, 10**7],
        "gains": [
            [[1e-300]],
            [[1e300]],
            [[0.0]],
            [[-1.0]],
            [["x"]],
            [[1.0, 2.0]],
            [],
            [[1.0]] * 1000,
            "x",
            None,
            [[1e-6]],  # allowed, but the decoded peaks would reach 1e28 with a large level step
        ],
        "tile_frames": [2**21, 1, 0, 2**16, 16.0],
        "n_tiles": [10**6, 0, 2, -1],
        "stored_bands": [10**6, 0, 8, 513, 256],
        "stored_channels": [2, 3, 0],
        "stereo": ["x", "mid-side", "left-right", 1, None],
        "source_channels": [2, 64, 65, 0, 10**9],
        "frame_length": [2048, 2**31, 1023, 0],
        "tilt": [1e-300, 1e300, -1.0, "8", None, 0.0],
        "rounding": ["nearest", 1, None],
        "coding_noise": [[1e300], [], [[1.0]], "x", [-1.0], [1.0] * 10_000],
        "quality": [0, 101, "high", 2**70],
        "image_format": ["gif", 3],
        "version": [99, 0, -1, "2", 1.5, None],
        "format": ["x", None, 5],
        "arrangement": ["planes", "columns"],
        "source_subtype": [5, "x" * 10_000],
        "encoder": [["x"], "y" * 100_000],
        "side_info": [
            ["!" * len(side)],
            [side[:-5]],
            [side + "00000"],
            ["x" * 10**6],
            [],
            [side, side],
            ["~~~~~"],
            [5],
            "x",
            None,
            ["0" * len(side)],
        ],
        "cell_frames": [0, 65, 1.5, "2", None, 1, 64],
        "group_width": [0.0, 1e9, 0.05, "x"],
        "level_step_db": [0, 1e300],
        "gain_strength": [-1, 2, "x"],
        "gain_range_db": [0, 1e9],
        "band_slope_db": [1e9, -13],
        "noise_fill": [2, -0.1, "x", None],
        "jpeg_step": [0, 1e9, "x"],
        "profile": [
            None,
            {},
            {"id": 5},
            {"id": "../../../etc/x"},
            {"id": "\x00" * 16},
            {"id": "0" * 16, "name": "gone"},
            {"id": "f" * 300, "name": "long"},
            {"id": "x" * 100_000},
        ],
        "band_gain_width": [0.5, 0.0, 3.0, "x", True],
    }
    out: list[tuple[str, bytes]] = []
    for key, options in values.items():
        for v in options:
            out.append((f"header {key}={str(v)[:30]}", _with_header({**base, key: v})))
    groups = 11  # of the shipped 24 kHz profile at band_gain_width 0.5
    for label, v in (
        ("zeros", [[[0.0] * groups]]), ("huge", [[[1e9] * groups]]), ("short row", [[[0.0] * 5]]),
        ("strings", [[["x"] * groups]]), ("not a list", "x"), ("too many tiles", [[[0.0] * groups]] * 1000),
        ("flat", [[0.0] * groups]), ("deep", [[[[0.0]] * groups]]), ("at the limits", [[[64.0] * groups]]),
    ):  # fmt: skip
        out.append(
            (f"header band_gains {label}", _with_header({**base, "band_gain_width": 0.5, "band_gains": v}))
        )
    out.append(("header band_gains without width", _with_header({**base, "band_gains": [[[0.0] * groups]]})))
    out.append(("header band_gains in version 3", _with_header({**base, "version": 3, "band_gain_width": 0.5,
                                                                "band_gains": [[[0.0] * groups]]})))  # fmt: skip
    out.append(
        (
            "header absurd level step and gains",
            _with_header({**base, "level_step_db": 12.0, "gains": [[1e-6]]}),
        )
    )
    out.append(("header 4 MB of escapes", _with_header({**base, "pad": '\\"' * (1 << 20)}, fmt="png")))
    out.append(("header missing fields", _with_header({"format": "mdctcompand-audio", "version": 2})))
    out.append(("header deep JSON array", _with_header("[" * 5000 + "]" * 5000)))
    deep = json.dumps({**base, "profile": "DEEP"}).replace('"DEEP"', '{"a": ' * 5000 + "1" + "}" * 5000)
    out.append(("header deep JSON object", _with_header(deep)))
    out.append(("header 2 MB", _with_header({**base, "pad": "x" * (2 << 20)}, fmt="png")))
    out.append(("header not JSON", _with_header("{not json")))
    out.append(("header NaN gain", _with_header(json.dumps({**base, "gains": [[float("nan")]]}))))
    out.append(
        (
            "header huge int",
            _with_header(json.dumps(base).replace('"length": 7000', '"length": ' + "9" * 5000)),
        )
    )
    out.append(("header list", _with_header([1, 2, 3])))
    out.append(("tiles 2 declared 1 present", _with_header({**base, "n_tiles": 2, "gains": [[1.0]] * 2})))
    out.append(("tile wider than declared", _with_header({**base, "tile_frames": 16}, shape=(512, 32))))
    out.append(("tile of other height", _with_header(base, shape=(256, 16))))
    data = custom["profile"]["data"]
    profile_values: dict[str, list[Any]] = {
        "shape": [[1e-300] * 512, [float("inf")] * 512, ["x"] * 512, [0.5] * 3, 0.5],
        "scale": [[1e-300] * 512, [-1.0] * 512, [1e300] * 512],
        "n_clips": ["x", 1e400, [1]],
        "frame_length": [2**30, 1024.5, "1024"],
        "sample_rate": [10**9, 0, "24000"],
        "window": ["kbd:1e9", "nope", 3],
        "level": ["rms:nan", "rms:1e308", 5],
        "version": [99, "1"],
        "format": ["x"],
    }
    for key, options in profile_values.items():
        for v in options:
            meta = {**custom, "profile": {**custom["profile"], "data": {**data, key: v}}}
            out.append((f"profile {key}={str(v)[:20]}", _with_header(meta, fmt="png", shape=(8, 16))))
    return out


def _zeros_compressed(n: int) -> bytes:
    packer = zlib.compressobj(9)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(n >> 20)] + [packer.compress(bytes(n & ((1 << 20) - 1)))]
    return b"".join(parts) + packer.flush()


def _png(
    width: int,
    height: int,
    frames: int = 1,
    idat: bytes | None = None,
    text: str | None = None,
    declared_frames: int | None = None,
) -> bytes:
    """A (possibly animated) grayscale PNG whose frames are all zeros (tiny when compressed)."""
    raw = idat if idat is not None else _zeros_compressed((width + 1) * height)
    chunks = [
        b"\x89PNG\r\n\x1a\n",
        png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)),
    ]
    if text is not None:
        chunks.append(png_chunk(b"iTXt", b"mdctcompand\x00\x00\x00\x00\x00" + text.encode()))
    if frames > 1:
        chunks.append(png_chunk(b"acTL", struct.pack(">II", declared_frames or frames, 0)))
    seq = 0
    for i in range(frames):
        if frames > 1:
            chunks.append(png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", seq, width, height, 0, 0, 1, 1, 0, 0)))
            seq += 1
        if i == 0:
            chunks.append(png_chunk(b"IDAT", raw))
        else:
            chunks.append(png_chunk(b"fdAT", struct.pack(">I", seq) + raw))
            seq += 1
    chunks.append(png_chunk(b"IEND", b""))
    return b"".join(chunks)


def hostile_containers() -> list[tuple[str, bytes]]:
    """Containers built to exhaust memory or to lie about their frames (name, bytes).

    Examples
    --------
    >>> all(len(data) < 1 << 20 for _, data in hostile_containers())
    True
    """
    meta = codec.read_info(codec.encode(np.zeros(7000), 24000, format="png")).metadata
    text = json.dumps(meta)
    big = codec.read_info(codec.encode(np.zeros(7000), 24000, format="png")).metadata
    big.update(
        tile_frames=8192, n_tiles=8, gains=[[1.0]] * 8, length=8192 * 7 * 512, source_length=8192 * 7 * 512
    )
    out = [
        ("APNG 8 frames of 67 M pixels", _png(8192, 8192, frames=8, text=text)),
        ("APNG 8 frames of 4 M pixels, header says 8 tiles", _png(8192, 512, frames=8, text=json.dumps(big))),
        ("PNG 100000 x 100000", _png(100_000, 100_000, idat=zlib.compress(b"\x00" * 1000), text=text)),
    ]
    out.append(
        ("APNG acTL claims 2**31 frames", _png(16, 512, frames=2, text=text, declared_frames=2**31 - 1))
    )
    packer = zlib.compressobj(9)
    bomb = packer.compress(text.encode()) + b"".join(packer.compress(b" " * (1 << 20)) for _ in range(64))
    bomb += packer.flush()
    body = _png(16, 512)
    itxt = png_chunk(b"iTXt", b"mdctcompand\x00\x01\x00\x00\x00" + bomb)
    out.append(("PNG iTXt zip bomb (64 MB of text)", body[:33] + itxt + body[33:]))
    jpeg = bytearray(codec.encode(np.zeros(7000), 24000))
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5 : sof + 9] = struct.pack(">HH", 65000, 65000)
    out.append(("JPEG SOF 65000 x 65000", bytes(jpeg)))
    mpo = bytearray(seed_files()["jpeg-stereo-tiles"])
    mpf = mpo.index(b"MPF\x00")
    count = mpo.index(b"\x01\xb0\x04\x00", mpf)  # tag 0xB001 (number of images), type LONG
    mpo[count + 8 : count + 12] = struct.pack("<I", 10**6)
    out.append(("MPO index corrupted", bytes(mpo)))
    if "webp" in available_formats():
        webp = bytearray(seed_files()["webp-tiles"])
        vp8x = webp.index(b"VP8X")
        webp[vp8x + 12 : vp8x + 18] = (16382).to_bytes(3, "little") * 2
        out.append(("WebP canvas 16383 x 16383", bytes(webp)))
    if "avif" in available_formats():
        avif = seed_files()["avif-mono"]
        out.append(("AVIF truncated", avif[: len(avif) * 2 // 3]))
        out.append(("AVIF zeroed middle", avif[:400] + bytes(len(avif) - 800) + avif[-400:]))
    return out


_INTERESTING = [
    b"\x00",
    b"\xff",
    b"\x7f",
    b"\x80",
    b"\xff\xff\xff\xff",
    b"\x00\x00\x00\x00",
    b"9999999",
    b"[[[[",
    b'"',
]


def mutate(data: bytes, rng: random.Random, n_ops: int | None = None) -> bytes:
    """Random byte-level mutations: flips, overwrites with interesting values, cuts, inserts, copies.

    Examples
    --------
    >>> len(mutate(b"abcdef", random.Random(0), n_ops=1)) > 0
    True
    """
    buf = bytearray(data)
    for _ in range(n_ops or rng.randint(1, 8)):
        if not buf:
            break
        pos = rng.randrange(len(buf))
        op = rng.randrange(6)
        if op == 0:
            buf[pos] ^= 1 << rng.randrange(8)
        elif op == 1:
            value = rng.choice(_INTERESTING)
            buf[pos : pos + len(value)] = value
        elif op == 2:
            del buf[rng.randrange(len(buf)) :]
        elif op == 3:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op == 4:
            del buf[pos : pos + rng.randint(1, 64)]
        else:
            start = rng.randrange(len(buf))
            buf[pos:pos] = buf[start : start + rng.randint(1, 256)]
    return bytes(buf)


def run_case(data: bytes, tmp: Path, *, command: bool = True) -> tuple[str, str]:
    """Decode one input every way; returns ``(outcome, detail)``.

    Outcomes: ``"decoded"``, ``"refused"`` (a library error), ``"bug"`` (any other
    exception), ``"left-output"`` (a failed decode left a file behind) and
    ``"traceback"`` (an exception escaped ``jpeg2wav``'s entry point). ``command=False``
    leaves the ``jpeg2wav`` command out (the public decoder API only).

    Examples
    --------
    >>> import tempfile
    >>> run_case(b"not an image", Path(tempfile.mkdtemp()))
    ('refused', 'FormatError')
    """
    src, out, cli_out = tmp / "case.img", tmp / "out.wav", tmp / "cli.wav"
    src.write_bytes(data)
    outcome, detail = "decoded", ""
    try:
        codec.read_info(data)
        codec.decode(data)
    except MdctCompandError as exc:
        outcome, detail = "refused", type(exc).__name__
    except Exception as exc:
        return "bug", f"{type(exc).__name__}: {exc}"[:300]
    try:
        codec.decode_file(src, out, overwrite=True)
        if outcome == "refused":
            return "bug", "decode() refused what decode_file() decoded"
    except MdctCompandError:
        if out.exists() or any(p.name.startswith(".") for p in tmp.iterdir()):
            return "left-output", "decode_file"
    except Exception as exc:
        return "bug", f"decode_file: {type(exc).__name__}: {exc}"[:300]
    if not command:
        out.unlink(missing_ok=True)
        return outcome, detail
    main = jpeg2wav()
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = main([str(src), "-o", str(cli_out), "--force", "-q"])
        except BaseException as exc:
            return "traceback", f"{type(exc).__name__}: {exc}"[:300]
    if status != 0 and (cli_out.exists() or any(p.name.startswith(".") for p in tmp.iterdir())):
        return "left-output", "jpeg2wav"
    for p in (out, cli_out):
        p.unlink(missing_ok=True)
    return outcome, detail


def cases(n: int, seed: int = 0) -> Iterator[tuple[str, bytes]]:
    """The crafted and hostile cases, then mutations of the seed files up to ``n`` in all.

    Examples
    --------
    >>> names = [name for name, _ in cases(300)]
    >>> len(names), names[0].startswith("header"), names[-1].startswith("mutation")
    (300, True, True)
    """
    rng = random.Random(seed)
    fixed = crafted_cases() + hostile_containers()
    yield from fixed[:n]
    seeds = list(seed_files().items())
    for i in range(n - len(fixed)):
        name, data = seeds[i % len(seeds)]
        yield f"mutation {i} of {name}", mutate(data, rng)


def cli_tracebacks(inputs: list[bytes], tmp: Path) -> int:
    """Run the ``jpeg2wav`` command (:func:`jpeg2wav_command`) in a fresh process on each input; count tracebacks.

    Also counts (as tracebacks) runs that fail but leave their output behind.

    Examples
    --------
    >>> import tempfile
    >>> cli_tracebacks([b"junk"], Path(tempfile.mkdtemp()))
    0
    """
    import subprocess

    command = jpeg2wav_command()
    bad = 0
    for data in inputs:
        src, out = tmp / "cli.img", tmp / "cli.wav"
        src.write_bytes(data)
        run = subprocess.run(
            [*command, str(src), "-o", str(out), "--force", "-q"],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        failed_with_output = run.returncode != 0 and (
            out.exists() or any(p.name.startswith(".") for p in tmp.iterdir())
        )
        if "Traceback" in run.stderr or run.returncode not in (0, 1) or failed_with_output:
            bad += 1
            print(" - jpeg2wav:", run.returncode, run.stderr.strip().splitlines()[-1:])
        for p in tmp.iterdir():
            p.unlink()
    return bad


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=2400, help="number of hostile inputs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--subprocess", type=int, default=0, metavar="N",
        help="also run jpeg2wav in a fresh process on N of the inputs (about 1.5 s each)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    all_cases = list(cases(args.cases, args.seed))
    base_rss = _peak_rss_mb()
    counts: Counter[str] = Counter()
    problems: list[str] = []
    largest = 0
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name, data in all_cases:
            largest = max(largest, len(data))
            outcome, detail = run_case(data, tmp)
            counts[outcome] += 1
            if outcome in ("bug", "traceback", "left-output"):
                problems.append(f"{name}: {outcome}: {detail}")
            for p in tmp.iterdir():
                p.unlink()
        sample = [data for _, data in all_cases[:: max(1, len(all_cases) // max(args.subprocess, 1))]]
        cli_bad = cli_tracebacks(sample[: args.subprocess], tmp) if args.subprocess else 0
    total = sum(counts.values())
    print(f"### Decoder fuzzing: {total} hostile inputs ({time.perf_counter() - t0:.0f} s)\n")
    print("| outcome | count | target |\n|---|---:|---|")
    print(f"| decoded (mutations that stayed valid) | {counts['decoded']} | |")
    print(f"| refused with a library error | {counts['refused']} | |")
    print(f"| other exceptions | {counts['bug']} | 0 |")
    print(f"| jpeg2wav tracebacks | {counts['traceback']} | 0 |")
    print(f"| outputs left after a failure | {counts['left-output']} | 0 |")
    if args.subprocess:
        print(
            f"| jpeg2wav in its own process: tracebacks of {min(args.subprocess, total)} runs | {cli_bad} | 0 |"
        )
    print(f"\nlargest input {largest / 1e6:.2f} MB; peak resident memory {_peak_rss_mb():.0f} MB "
          f"(after building the inputs {base_rss:.0f} MB; target < 600 MB)")  # fmt: skip
    for line in problems[:50]:
        print(" -", line)
    return 1 if problems or cli_bad or _peak_rss_mb() >= 600 else 0


if __name__ == "__main__":
    raise SystemExit(main())
