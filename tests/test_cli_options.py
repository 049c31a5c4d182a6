"""Every command and option explains itself; messages speak in flags; commands import only what they need."""

import argparse
import os
import re
import subprocess
import sys

import pytest

from mdctcompand.cli import main as cli_main
from mdctcompand.cli._common import Formatter, flag_message
from mdctcompand.cli.wav2jpeg import _decode_parser, _encode_parser


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def _all_parsers():
    """(name, parser) for wav2jpeg, jpeg2wav and every `mdctcompand` (sub)subcommand."""
    yield "wav2jpeg", _encode_parser()
    yield "jpeg2wav", _decode_parser()
    root = cli_main.build_parser()
    yield "mdctcompand", root
    for name, sub in _subparsers(root):
        yield name, sub
        for subname, subsub in _subparsers(sub):
            yield f"{name} {subname}", subsub


PARSERS = [pytest.param(name, parser) for name, parser in _all_parsers()]


@pytest.mark.parametrize("name, parser", PARSERS, ids=[p.values[0] for p in PARSERS])
def test_every_option_has_help_and_one_default(name, parser):
    missing = [a.dest for a in parser._actions if not a.help and a.help is not argparse.SUPPRESS]
    assert missing == [], f"{name}: options without help: {missing}"
    formatter = Formatter(prog=name)
    for action in parser._actions:
        if not action.help:
            continue
        text = formatter._expand_help(action)
        assert text.lower().count("default") <= 1, f"{name} {action.option_strings}: {text!r}"
        assert "(default: None)" not in text
    assert parser.description, f"{name} has no description"


def test_info_help_has_a_description():
    r = subprocess.run(
        [sys.executable, "-m", "mdctcompand.cli.main", "info", "--help"], capture_output=True, text=True
    )
    assert r.returncode == 0 and "Describe encoded files" in r.stdout


def test_encode_options_are_the_settings_fields():
    """wav2jpeg's options are generated from EncodeSettings: every field has its flag, type and default."""
    import dataclasses

    from mdctcompand.codec import EncodeSettings

    parser = _encode_parser()
    args = parser.parse_args(["x.wav"])
    d = EncodeSettings()
    names = [f.name for f in dataclasses.fields(EncodeSettings)]
    assert len(names) == 16
    for name in names:
        expected = {"format": None, "profile": "auto"}.get(name, getattr(d, name))  # decided from -o / the rate
        assert getattr(args, name) == expected, name
    given = parser.parse_args(
        ["x.wav", "-f", "webp", "--tilt", "3.5", "--bandwidth", "full", "--no-noise-fill", "--tile-frames", "64",
         "--resample-quality", "VHQ", "--bitrate", "32"]
    )  # fmt: skip
    assert (given.format, given.tilt, given.bandwidth, given.noise_fill, given.tile_frames) == ("webp", 3.5, "full", False, 64)
    assert (given.resample_quality, given.bitrate) == ("VHQ", 32.0)
    for bad in (["--tilt", "high"], ["--quality", "50", "--bitrate", "32"], ["--stereo", "surround"]):
        with pytest.raises(SystemExit):
            parser.parse_args(["x.wav", *bad])


@pytest.mark.parametrize(
    "message, expected",
    [
        ("use stereo='mono'", "use --stereo mono"),
        ('format="bmp" is unknown', "--format bmp is unknown"),
        ("quality=500 must be in 1..100", "--quality 500 must be in 1..100"),
        (
            "x.jpg exists (use --force, or overwrite=True, to replace it)",
            "x.jpg exists (use --force to replace it)",
        ),
        ("pass overwrite=True", "pass --force"),
        ("shape=(3, 4) is wrong", "shape=(3, 4) is wrong"),  # not a flag: left alone
        ("subtype='PCM_99', decoder='x'", "--subtype PCM_99, --decoder x"),
    ],
)
def test_flag_message(message, expected):
    assert flag_message(message) == expected


def _modules_after(code):
    r = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
                       capture_output=True, text=True, check=True)  # fmt: skip
    return set(r.stdout.split())


_HEAVY = {"numpy", "scipy", "PIL", "soundfile", "numba", "torch", "tqdm"}
#: ``--help`` reads the codec's settings fields (their validation works in numpy): numpy may load, nothing else
_HEAVY_FOR_HELP = _HEAVY - {"numpy"}


def test_imports_stay_light():
    """`import mdctcompand` and the command's module import no numpy; a short encode loads no Numba, no torch."""
    assert "numpy" not in _modules_after("import mdctcompand")
    mods = _modules_after("import mdctcompand.cli.wav2jpeg")
    assert not _HEAVY & mods
    # the umbrella command loads every subcommand's module to build its parser: all stay light
    assert not _HEAVY & _modules_after("import mdctcompand.cli.main")


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["dataset", "build", "--help"],
        ["dataset", "fetch", "--help"],
        ["profile", "fit", "--help"],
        ["evaluate", "--help"],
        ["encode", "--help"],
        ["train-lora", "--help"],
    ],
    ids=" ".join,
)
def test_help_imports_nothing_heavy(argv):
    code = (
        "import contextlib, io\nfrom mdctcompand.cli.main import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit): main({argv!r})"
    )
    assert not _HEAVY_FOR_HELP & _modules_after(code)


def test_subcommand_defaults_are_the_library_defaults():
    """dataset build's image options are BuildConfig's fields; profile fit's default is spelled in its light module."""
    from mdctcompand.band_gains import TILT_WITHOUT_BAND_GAINS
    from mdctcompand.cli import profile_cmd
    from mdctcompand.compand import DEFAULT_ROUNDING
    from mdctcompand.dataset import BuildConfig
    from mdctcompand.fitting import DEFAULT_MIN_SHAPE

    assert (BuildConfig().tilt, BuildConfig().rounding) == (TILT_WITHOUT_BAND_GAINS, DEFAULT_ROUNDING)
    build = cli_main.build_parser().parse_args(["dataset", "build", "--captions", "c.csv", "-o", "out"])
    default = BuildConfig()
    assert build.tilt is None  # resolved by --band-gains: BuildConfig's tilt for its default "none"
    for name in ("frames", "profile", "rounding", "level", "silence_db", "png_compression", "stereo", "band_gains"):
        assert getattr(build, name) == getattr(default, name), name
    given = cli_main.build_parser().parse_args(
        ["dataset", "build", "--captions", "c.csv", "-o", "out", "--silence-db", "-50", "--png-compression", "6"]
    )
    assert (given.silence_db, given.png_compression) == (-50.0, 6)
    assert profile_cmd.DEFAULT_MIN_SHAPE == DEFAULT_MIN_SHAPE


def test_short_encode_and_decode_load_no_numba(tmp_path):
    code = (
        "import numpy as np, soundfile as sf\n"
        "from mdctcompand.testing import make_signal\n"
        "from mdctcompand.cli.wav2jpeg import main_encode, main_decode\n"
        f"d = {str(tmp_path)!r}\n"
        "sf.write(d + '/a.wav', make_signal('mixture', 441000, 44100), 44100)\n"
        "assert main_encode([d + '/a.wav', '-q']) == 0 and main_decode([d + '/a.jpg', '-q']) == 0\n"
    )
    mods = _modules_after(code)
    assert "numba" not in mods and "torch" not in mods
    assert not any(re.match(r"mdctcompand\._kernels\._\w+_numba", m) for m in mods)


def test_flags_users_bring_from_lame_and_ffmpeg():
    args = _encode_parser().parse_args(["x.wav", "-b", "32", "-y"])
    assert args.bitrate == 32.0 and args.force
    assert _decode_parser().parse_args(["x.jpg", "-y"]).force


def test_demo_keeps_its_files_and_says_where(tmp_path, capsys):
    from mdctcompand import demo

    demo.main(["--out", str(tmp_path / "d")])
    out = capsys.readouterr().out
    assert {"example.wav", "example.jpg", "example_decoded.wav"} <= {p.name for p in (tmp_path / "d").iterdir()}
    assert f"the files are in {tmp_path / 'd'}" in out and "round-trip SNR" in out


def test_an_array_the_wrong_way_round_gets_a_hint():
    import numpy as np

    import mdctcompand

    with pytest.raises(mdctcompand.ParameterError, match=r"pass\w* .*audio\.T"):
        mdctcompand.AudioImageConverter("44k").image_from_audio(np.zeros((9000, 2), np.float32), sample_rate=44100)


@pytest.mark.parametrize("flag, value", [("--png-compression", "12"), ("--silence-db", "20"), ("--level", "loud")])
def test_dataset_build_refuses_bad_image_settings_before_any_work(tmp_path, flag, value):
    """A bad setting once built an empty dataset with exit 0 (every clip failed on its own)."""
    (tmp_path / "caps.csv").write_text("audio,caption\na.wav,x\n")
    r = subprocess.run(
        [sys.executable, "-m", "mdctcompand.cli.main", "dataset", "build", "--captions", str(tmp_path / "caps.csv"),
         "-o", str(tmp_path / "ds"), flag, value],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode == 2 and flag in r.stderr and not (tmp_path / "ds").exists()


@pytest.mark.parametrize(
    "entry, argv, user, expected",
    [
        ("mdctcompand.cli.wav2jpeg:main_encode", ["--version"], None, "1"),
        ("mdctcompand.cli.wav2jpeg:main_decode", ["--version"], None, "1"),
        ("mdctcompand.cli.main:main", ["info", "--help"], None, "1"),
        ("mdctcompand.cli.wav2jpeg:main_encode", ["--version"], "3", "3"),  # the user's setting stands
        ("mdctcompand.cli.main:main", ["evaluate", "--help"], None, None),  # large products keep BLAS's pool
    ],
)
def test_codec_commands_run_blas_on_one_thread_unless_told(entry, argv, user, expected):
    """Issue 26's thread policy: the codec's products are small, a BLAS pool only spins (28 % of an
    encode's CPU); worker processes inherit the variable."""
    module, name = entry.split(":")
    code = (
        "import os, sys, importlib\n"
        f"main = getattr(importlib.import_module({module!r}), {name!r})\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(os.environ.get('OPENBLAS_NUM_THREADS'), file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    if user is not None:
        env["OPENBLAS_NUM_THREADS"] = user
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert run.stderr.strip().splitlines()[-1] == str(expected)
