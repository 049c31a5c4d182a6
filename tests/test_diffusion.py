"""The diffusion extra on the CPU, offline: a tiny SD-shaped model built in the test."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("peft")
pytest.importorskip("accelerate")
pytest.importorskip("datasets")

pytestmark = pytest.mark.diffusion


@pytest.fixture(scope="module", autouse=True)
def offline():
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("HF_DATASETS_OFFLINE", "1")
    mp.setenv("TRANSFORMERS_OFFLINE", "1")
    yield
    mp.undo()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A 32-band, 8 kHz profile, a captioned dataset of 32 x 32 images and a tiny SD model."""
    from mdctcompand.diffusion.testing import build_tiny_workspace

    ws = build_tiny_workspace(tmp_path_factory.mktemp("diffusion"))
    return ws.root


def _config(root: Path, out: str, **kw):
    from mdctcompand.diffusion import TrainingConfig

    args = dict(
        pretrained_model=str(root / "model"), dataset_dir=str(root / "dataset"), output_dir=str(root / out), rank=4, alpha=8.0,
        max_train_steps=6, gradient_accumulation_steps=1, train_batch_size=4, checkpointing_steps=3,
        resolution=32, learning_rate=2e-3, seed=0,
    )  # fmt: skip
    args.update(kw)
    return TrainingConfig(**args)


@pytest.fixture(scope="module")
def lora_dir(workspace):
    from mdctcompand.diffusion import train

    # lr 1e-2: 12 steps lower the fixed-noise loss by about 20 % on this tiny random model
    config = _config(workspace, "lora", max_train_steps=12, learning_rate=1e-2, validation_prompts=["a slow rock song"],
                     validation_steps=12, validation_inference_steps=2)  # fmt: skip
    return train(config, progress=False)


def test_training_lowers_fixed_noise_loss(workspace, lora_dir):
    from mdctcompand.diffusion import fixed_noise_loss, load_pipeline

    base = load_pipeline(workspace / "model", lora=None, converter=_converter(lora_dir), device="cpu")
    tuned = load_pipeline(workspace / "model", lora=lora_dir, device="cpu")
    before = fixed_noise_loss(base, workspace / "dataset")
    after = fixed_noise_loss(tuned, workspace / "dataset")
    assert after < 0.9 * before
    assert (lora_dir / "validation" / "step-12" / "00.wav").is_file()
    assert (lora_dir / "validation" / "step-12" / "00.png").is_file()


def _converter(directory):
    from mdctcompand.diffusion import MDCTImageConverter

    return MDCTImageConverter.from_pretrained(Path(directory) / "converter")


def test_adapter_reload_is_identical_and_keeps_alpha(workspace, lora_dir):
    from mdctcompand.diffusion import load_pipeline

    a = load_pipeline(workspace / "model", lora=lora_dir, device="cpu")
    b = load_pipeline(workspace / "model", lora=lora_dir, device="cpu")
    config = next(iter(a.unet.peft_config.values()))
    assert config.lora_alpha == 8.0 and config.r == 4  # alpha != rank survives the reload
    x = a("a fast jazz piano", num_inference_steps=3, seed=1, progress=False).audios
    y = b("a fast jazz piano", num_inference_steps=3, seed=1, progress=False).audios
    np.testing.assert_array_equal(x, y)
    base = load_pipeline(workspace / "model", converter=_converter(lora_dir), device="cpu")
    z = base("a fast jazz piano", num_inference_steps=3, seed=1, progress=False).audios
    assert not np.allclose(x, z)  # the adapter changes the output


def test_resume_continues_the_step_count(workspace):
    from mdctcompand.diffusion import train

    out = train(_config(workspace, "resume", max_train_steps=6), progress=False)
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-3", "checkpoint-6"]
    out = train(
        _config(workspace, "resume", max_train_steps=9, resume_from_checkpoint="latest"), progress=False
    )
    log = json.loads((out / "training_log.json").read_text())
    assert log["global_step"] == 9 and len(log["losses"]) == 3  # steps 7, 8, 9 only
    assert (out / "checkpoint-9").is_dir()


def test_generate_lengths_continuation_and_img2img(workspace, lora_dir):
    from mdctcompand.diffusion import load_pipeline

    pipe = load_pipeline(workspace / "model", lora=lora_dir, device="cpu")
    one = pipe("a slow rock song", num_inference_steps=2, seed=0, progress=False)
    conv = pipe.converter.converter
    assert one.audios.shape == (1, conv.max_samples(32)) and one.sample_rate == 8000
    long = pipe(["a slow rock song", "a fast jazz piano"], num_inference_steps=2, seed=0, audio_length_s=0.9,
                num_waveforms_per_prompt=2, progress=False)  # fmt: skip
    assert long.audios.shape == (4, 7200) and np.all(np.isfinite(long.audios))
    assert long.images[0].size[0] >= conv.n_frames(7200)  # more frames than one image holds
    x = 0.5 * np.sin(2 * np.pi * 440 * np.arange(12000) / 16000)
    out = pipe("a slow rock song", num_inference_steps=4, strength=0.5, init_audio=x, init_sample_rate=16000, seed=0,
               progress=False)  # fmt: skip
    assert out.audios.shape == (1, 6000) and np.all(np.isfinite(out.audios))
    from mdctcompand import ParameterError

    with pytest.raises(ParameterError, match="strength"):
        pipe("x", strength=0.0, progress=False)
    with pytest.raises(ParameterError, match="prompt"):
        pipe(3, progress=False)


def test_scratch_pixel_unet_trains_saves_and_loads(workspace):
    from mdctcompand.diffusion import fixed_noise_loss, load_pipeline, train

    out = train(_config(workspace, "scratch", mode="scratch", space="pixel", scratch_channels=(16, 32), max_train_steps=8,
                        learning_rate=3e-3), progress=False)  # fmt: skip
    pipe = load_pipeline(out, device="cpu")
    assert pipe.vae is None and pipe.unet.config.in_channels == 1
    audio = pipe("a slow rock song", num_inference_steps=2, seed=0, progress=False).audios
    assert audio.shape == (1, pipe.converter.converter.max_samples(32)) and np.all(np.isfinite(audio))
    assert np.isfinite(fixed_noise_loss(pipe, workspace / "dataset"))


def test_flips_refused_and_config_checked(workspace):
    from mdctcompand import ParameterError

    with pytest.raises(ParameterError, match="reverses time"):
        _config(workspace, "x", random_flip=True)
    with pytest.raises(ParameterError, match="mode"):
        _config(workspace, "x", mode="full")


def test_cli_train_and_generate(workspace, tmp_path):
    run = [sys.executable, "-m", "mdctcompand.cli.main"]
    r = subprocess.run(run + ["train-lora", "--model", str(workspace / "model"), "--dataset", str(workspace / "dataset"), "-o",
                              str(tmp_path / "lora"), "--max-steps", "2", "--gradient-accumulation-steps", "1",
                              "--resolution", "32", "--checkpointing-steps", "100", "-q"], capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = tmp_path / "song.wav"
    r = subprocess.run(run + ["generate", "a slow rock song", "--model", str(workspace / "model"), "--lora",
                              str(tmp_path / "lora"), "--steps", "2", "--seconds", "0.5", "--seed", "3", "--device", "cpu",
                              "-o", str(out), "--image", str(tmp_path / "song.png"), "-q"], capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    info = sf.info(out)
    assert info.samplerate == 8000 and info.frames == 4000 and (tmp_path / "song.png").is_file()
    again = subprocess.run(run + ["generate", "x", "--model", str(workspace / "model"), "--lora", str(tmp_path / "lora"),
                                  "-o", str(out)], capture_output=True, text=True)  # fmt: skip
    assert again.returncode == 2 and "exists" in again.stderr


def test_missing_extra_says_what_to_install():
    code = "import sys; sys.modules['peft'] = None; import mdctcompand.diffusion"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode != 0 and "pip install 'mdctcompand[diffusion]'" in r.stderr and "peft" in r.stderr
