"""Training straight from captioned audio: crops (CaptionedAudio), conversion on the training device, train-lora."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pytest
from extras import require_diffusion_extra

require_diffusion_extra()

pytestmark = [pytest.mark.diffusion, pytest.mark.usefixtures("diffusion_offline")]


def _tokenizer(ws):
    from transformers import CLIPTokenizer

    return CLIPTokenizer.from_pretrained(ws.model / "tokenizer")


def _clips(ws):
    from mdctcompand.dataset import read_captions

    clips, _ = read_captions(ws.root / "audio" / "captions.jsonl")
    return clips


def _csv(path, rows, split=None):
    lines = ["audio,caption" + (",split" if split else "")]
    lines += [f"{a},{c}" + (f",{split}" if split else "") for a, c in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _find_start(item, whole, n_check):
    """The offset of ``item`` in ``whole`` (both (channels, n)), the start of least maximum difference."""
    errors = [
        np.abs(whole[:, s : s + n_check] - item[:, :n_check]).max()
        for s in range(whole.shape[1] - n_check + 1)
    ]
    return int(np.argmin(errors)), float(np.min(errors))


# ---------------------------------------------------------------------- (a) CaptionedAudio
def test_items_are_exact_crops_of_the_files_seeded_and_padded(ws):
    import soundfile as sf
    import torch

    from mdctcompand.diffusion.data import CaptionedAudio

    conv, tok, clips = ws.converter(), _tokenizer(ws), _clips(ws)
    n = conv.max_samples(32)
    data = CaptionedAudio(clips, tok, conv, crop_frames=32, seed=3)
    assert len(data) == len(clips) == 6
    starts = set()
    for i in range(len(data)):
        item = data[i]
        assert item["audio"].dtype == torch.float32 and tuple(item["audio"].shape) == (1, n)
        assert int(item["length"]) == n
        whole, rate = sf.read(clips[i].audio, dtype="float32", always_2d=True)
        assert rate == conv.sample_rate  # no resampling: the crop is the file's samples, bit for bit
        start, error = _find_start(item["audio"].numpy(), whole.T, n)
        assert error == 0.0
        starts.add(start)
    assert len(starts) > 1  # random crops in time

    def crops(seed):
        fresh = CaptionedAudio(clips, tok, conv, crop_frames=32, seed=seed)
        return [fresh[i]["audio"].numpy() for i in range(6)]

    assert all(np.array_equal(x, y) for x, y in zip(crops(3), crops(3)))  # deterministic per seed
    assert not all(np.array_equal(x, y) for x, y in zip(crops(3), crops(4)))
    # a crop longer than the clip: the whole clip, then zeros; the length counts the real samples
    long = CaptionedAudio(clips, tok, conv, crop_frames=200)
    item = long[0]
    whole, _ = sf.read(clips[0].audio, dtype="float32")
    assert (
        tuple(item["audio"].shape) == (1, conv.max_samples(200)) and int(item["length"]) == whole.size
    )
    np.testing.assert_array_equal(item["audio"][0, : whole.size].numpy(), whole)
    assert not item["audio"][0, whole.size :].any()


def test_caption_dropout_and_only_the_train_split(ws, tmp_path):
    import shutil

    from mdctcompand.dataset import read_captions
    from mdctcompand.diffusion.data import CaptionedAudio

    conv, tok = ws.converter(), _tokenizer(ws)
    for i in range(3):
        shutil.copy(ws.root / "audio" / f"c{i}.wav", tmp_path / f"c{i}.wav")
    (tmp_path / "caps.csv").write_text("audio,caption,split\nc0.wav,a,train\nc1.wav,b,test\nc2.wav,c,train\n")
    clips, _ = read_captions(tmp_path / "caps.csv")
    data = CaptionedAudio(clips, tok, conv, crop_frames=32)
    assert data.captions == ["a", "c"]
    empty = tok("", padding="max_length", max_length=tok.model_max_length, return_tensors="pt").input_ids[0]
    dropped = CaptionedAudio(clips, tok, conv, crop_frames=32, caption_dropout=1.0)
    assert all(np.array_equal(dropped[i]["input_ids"], empty) for i in range(2))
    assert not np.array_equal(data[0]["input_ids"], empty)
    assert len(CaptionedAudio(_clips(ws), tok, conv, crop_frames=32, max_samples=2)) == 2


def test_a_48k_file_is_resampled_to_a_44k_profile_and_mono_files_are_duplicated_for_stereo(
    stereo_ws, tmp_path
):
    import soundfile as sf

    from mdctcompand.dataset import read_captions
    from mdctcompand.diffusion import MDCTImageConverter
    from mdctcompand.diffusion.data import CaptionedAudio
    from mdctcompand.diffusion.testing import stereo_signal
    from mdctcompand.io import load_audio

    stereo = MDCTImageConverter.from_converter(
        stereo_ws.converter().converter, frames=16, stereo="left-right"
    )
    mono = MDCTImageConverter.from_converter(stereo_ws.converter().converter, frames=16, stereo="mono")
    n = stereo.max_samples(16)
    sf.write(tmp_path / "s48.wav", stereo_signal(n * 48000 // 44100 + 2000, 48000).T, 48000, subtype="FLOAT")
    sf.write(tmp_path / "m44.wav", stereo_signal(n + 100, 44100)[0], 44100, subtype="FLOAT")
    clips, _ = read_captions(_csv(tmp_path / "caps.csv", [("s48.wav", "wide"), ("m44.wav", "narrow")]))
    whole, rate = load_audio(tmp_path / "s48.wav", sample_rate=44100, always_2d=True)
    assert rate == 44100 and whole.shape[1] >= n + 300
    starts = set()
    for seed in range(4):
        item = CaptionedAudio(clips, _tokenizer(stereo_ws), stereo, crop_frames=16, seed=seed)[0]
        audio = item["audio"].numpy()
        assert audio.shape == (2, n) and int(item["length"]) == n
        # the crop, resampled on its own, matches the whole file resampled (edges of the chunk aside)
        # the crop, resampled with context on the grid where 48 and 44.1 kHz samples coincide (every 147),
        # is the whole file resampled, cut there (soxr's edge effects stay in the context)
        start, error = _find_start(audio, whole, n)
        assert start % 147 == 0 and error <= 1e-6, (start, error)
        starts.add(start)
        mono_item = CaptionedAudio(clips, _tokenizer(stereo_ws), mono, crop_frames=16, seed=seed)[0]
        assert tuple(mono_item["audio"].shape) == (1, n)
        np.testing.assert_allclose(
            mono_item["audio"][0], audio.mean(axis=0), atol=1e-5
        )  # downmix, then resample
    assert len(starts) > 1
    duplicated = CaptionedAudio(clips, _tokenizer(stereo_ws), stereo, crop_frames=16)[1]["audio"]
    assert duplicated.shape == (2, n) and np.array_equal(duplicated[0], duplicated[1]) and duplicated.any()


# ---------------------------------------------------------------------- (b) conversion on the device
def _run(config):
    """A training run's conversion step, on the CPU, without models or accelerate state."""
    import types

    import torch

    from mdctcompand.diffusion.training import _Run, training_converter

    run = _Run(config, progress=False)
    run.converter = training_converter(config)
    run.accelerator = types.SimpleNamespace(device=torch.device("cpu"))
    run.vae = None  # model images in the converter's planes (3 for left-right)
    return run


def _agree(stored, codes):
    agree = np.mean(stored == codes)
    assert agree >= 0.999, agree  # float32 on the device vs float64 in the builder: ties aside
    assert np.max(np.abs(stored.astype(int) - codes.astype(int))) <= 1


def test_on_device_conversion_in_training_equals_the_builders_images(ws, stereo_ws):
    import soundfile as sf
    import torch
    from PIL import Image

    from mdctcompand.diffusion import TrainingConfig
    from mdctcompand.diffusion.data import CaptionedAudio

    # stereo: the clip fits one image; CaptionedAudio's item -> the training step's images
    run = _run(TrainingConfig(str(stereo_ws.model), str(stereo_ws.root / "audio" / "captions.jsonl"), "unused",
                              profile="44k", stereo="left-right", resolution=1024, crop_frames=64))  # fmt: skip
    conv = run.converter
    rows = [
        json.loads(line) for line in (stereo_ws.dataset / "train" / "metadata.jsonl").read_text().splitlines()
    ]
    clips = _clips(stereo_ws)
    data = CaptionedAudio(clips, _tokenizer(stereo_ws), conv, crop_frames=64)
    batch = torch.utils.data.default_collate([data[0], data[1]])
    images = run.images_from_audio(batch)
    assert tuple(images.shape) == (2, 3, 1024, 64) and images.dtype == torch.float32
    codes = torch.round((images + 1) * 127.5).to(torch.uint8).numpy()
    for j in range(2):
        row = next(r for r in rows if r["clip_id"] == clips[j].id)
        assert row["segments"] == 1 and int(batch["length"][j]) == row["length"]
        _agree(stereo_ws.converter().codes_from_pil(Image.open(stereo_ws.dataset / "train" / row["file_name"])),
               codes[j])  # fmt: skip

    # mono: the first image of a longer clip is its first max_samples(32) samples
    run = _run(TrainingConfig(str(ws.model), str(ws.root / "audio" / "captions.jsonl"), "unused",
                              profile=str(ws.profile), resolution=32))  # fmt: skip
    rows = [json.loads(line) for line in (ws.dataset / "train" / "metadata.jsonl").read_text().splitlines()]
    row = next(r for r in rows if r["segment"] == 0)
    audio, _ = sf.read(ws.root / "audio" / row["clip_id"].split("-")[0], dtype="float32")
    n = run.converter.max_samples(32)
    batch = {"audio": torch.from_numpy(audio[:n])[None, None], "length": torch.tensor([n])}
    images = run.images_from_audio(batch)
    assert tuple(images.shape) == (1, 1, 32, 32)
    codes = torch.round((images[0, 0] + 1) * 127.5).to(torch.uint8).numpy()
    _agree(ws.converter().codes_from_pil(Image.open(ws.dataset / "train" / row["file_name"])), codes)


# ---------------------------------------------------------------------- (c) train-lora from a captions CSV
@pytest.mark.parametrize("stereo", ["mono", "left-right"])
def test_train_lora_from_a_captions_csv(ws, stereo_ws, stereo, tmp_path, caplog):
    from safetensors.torch import load_file

    from mdctcompand.cli.main import main
    from mdctcompand.diffusion import MDCTImageConverter

    w = ws if stereo == "mono" else stereo_ws
    csv = _csv(tmp_path / "clips.csv", [(w.root / "audio" / f"c{i}.wav", f"caption {i}") for i in range(4)])
    out = tmp_path / "lora"
    geometry = (["--profile", str(ws.profile), "--resolution", "32"] if stereo == "mono"
                else ["--profile", "44k", "--stereo", "left-right", "--resolution", "1024", "--crop-frames", "64"])  # fmt: skip
    with caplog.at_level(logging.INFO, logger="mdctcompand.diffusion.training"):
        assert main(["train-lora", "--model", str(w.model), "--dataset", str(csv), "-o", str(out), "--max-steps", "2",
                     "--gradient-accumulation-steps", "1", "--batch-size", "2", *geometry, "-q"]) == 0  # fmt: skip
    assert "latent cache does not apply" in caplog.text  # cache_latents (the default) is skipped for audio
    assert load_file(out / "pytorch_lora_weights.safetensors")
    log = json.loads((out / "training_log.json").read_text())
    assert [s["step"] for s in log["steps"]] == [1, 2] and all(math.isfinite(s["loss"]) for s in log["steps"])
    saved = MDCTImageConverter.from_pretrained(out / "converter")
    assert saved.stereo == stereo and saved.n_bands == (32 if stereo == "mono" else 1024)
    config = json.loads((out / "training_config.json").read_text())["config"]
    assert config["dataset_dir"] == str(csv) and config["stereo"] == (
        None if stereo == "mono" else "left-right"
    )


# ---------------------------------------------------------------------- (d) bad input
def test_unreadable_audio_three_channels_and_wrong_rates_are_refused(ws, stereo_ws, tmp_path, caplog):
    import soundfile as sf

    from mdctcompand.dataset import read_captions
    from mdctcompand.diffusion.data import CaptionedAudio
    from mdctcompand.exceptions import ParameterError

    stereo = stereo_ws.converter()
    (tmp_path / "bad.wav").write_bytes(b"not audio at all" * 10)
    clips, _ = read_captions(_csv(tmp_path / "caps.csv", [("bad.wav", "noise")]))
    with pytest.raises(ParameterError, match=r"no readable training audio.*bad\.wav"):
        CaptionedAudio(clips, _tokenizer(ws), ws.converter(), crop_frames=32)
    # an unreadable file among readable ones: skipped, with a warning naming it
    sf.write(tmp_path / "ok.wav", np.full(4000, 0.1, np.float32), 8000)
    clips, _ = read_captions(_csv(tmp_path / "two.csv", [("bad.wav", "noise"), ("ok.wav", "tone")]))
    with caplog.at_level(logging.WARNING, logger="mdctcompand.diffusion.data"):
        assert len(CaptionedAudio(clips, _tokenizer(ws), ws.converter(), crop_frames=32)) == 1
    assert "bad.wav" in caplog.text
    # three channels: refused for left-right (naming the file), downmixed for mono as `dataset build` does
    sf.write(tmp_path / "three.wav", np.zeros((50000, 3), np.float32), 44100)
    clips, _ = read_captions(_csv(tmp_path / "three.csv", [("three.wav", "surround")]))
    with pytest.raises(ParameterError, match=r"three\.wav: 3 channels"):
        CaptionedAudio(clips, _tokenizer(stereo_ws), stereo, crop_frames=16)
    mono = type(stereo).from_converter(stereo.converter, frames=16, stereo="mono")
    assert CaptionedAudio(clips, _tokenizer(stereo_ws), mono, crop_frames=16)[0]["audio"].shape[0] == 1
    # a rate the profile cannot serve: refused, naming the file, never reinterpreted
    sf.write(tmp_path / "low.wav", np.zeros(1000, np.float32), 1000)
    clips, _ = read_captions(_csv(tmp_path / "low.csv", [("low.wav", "low")]))
    with pytest.raises(ParameterError, match=r"low\.wav: sample_rate=1000 Hz"):
        CaptionedAudio(clips, _tokenizer(stereo_ws), stereo, crop_frames=16)


def test_flags_that_disagree_with_a_built_dataset_or_the_profile_are_refused(ws, tmp_path, capsys):
    from mdctcompand.cli.main import main
    from mdctcompand.diffusion import TrainingConfig
    from mdctcompand.diffusion.training import training_converter
    from mdctcompand.exceptions import ParameterError

    built = json.loads((ws.dataset / "mdctcompand.json").read_text())["build"]
    conv = training_converter(
        TrainingConfig("m", str(ws.dataset), "o", profile=built["profile"], stereo="mono")
    )
    assert conv.config == ws.converter().config  # the saved settings, given again: accepted
    with pytest.raises(ParameterError, match=r"--profile 44k: the dataset .* was built with --profile"):
        training_converter(TrainingConfig("m", str(ws.dataset), "o", profile="44k"))
    with pytest.raises(ParameterError, match="no such captions file"):
        training_converter(TrainingConfig("m", str(tmp_path / "none.csv"), "o"))
    with pytest.raises(ParameterError, match="neither a dataset built"):
        training_converter(TrainingConfig("m", str(tmp_path), "o"))
    out = tmp_path / "out"
    argv = ["train-lora", "--model", str(ws.model), "-o", str(out), "--max-steps", "1", "-q"]
    assert main([*argv, "--dataset", str(ws.dataset), "--stereo", "left-right", "--resolution", "32"]) != 0
    assert "--stereo left-right: the dataset" in capsys.readouterr().err
    # the paper profile has 512 bands: --resolution 32 is refused before any step
    assert main([*argv, "--dataset", str(ws.root / "audio" / "captions.jsonl"), "--resolution", "32"]) != 0
    assert "--resolution 32 != the 512 bands" in capsys.readouterr().err
    assert not (out / "pytorch_lora_weights.safetensors").exists()


def test_train_lora_help_and_flags_reach_the_config():
    from mdctcompand.cli.diffusion_cmd import training_config
    from mdctcompand.cli.main import build_parser

    parser = build_parser()
    args = parser.parse_args(["train-lora", "--model", "m", "--dataset", "c.csv", "-o", "o", "--profile", "44k",
                              "--stereo", "left-right"])  # fmt: skip
    config = training_config(args)
    assert (config.profile, config.stereo, config.audio_captions) == ("44k", "left-right", True)
    default = training_config(parser.parse_args(["train-lora", "--model", "m", "--dataset", "d", "-o", "o"]))
    assert (default.profile, default.stereo, default.audio_captions) == (None, None, False)
