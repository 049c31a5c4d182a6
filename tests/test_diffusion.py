"""The diffusion extra on the CPU, offline: pipeline, saving and loading, LoRA training, scratch training.

A tiny SD-shaped model and dataset are built locally (mdctcompand.diffusion.testing). Torch
runs on one thread: tiny models gain nothing from more, and lose a lot on a shared machine.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from extras import require_diffusion_extra

require_diffusion_extra()

pytestmark = [pytest.mark.diffusion, pytest.mark.usefixtures("diffusion_offline")]


def _config(ws, out, **kw):
    from mdctcompand.diffusion import TrainingConfig

    args = dict(
        pretrained_model=str(ws.model), dataset_dir=str(ws.dataset), output_dir=str(out), rank=4, alpha=8.0,
        max_train_steps=6, gradient_accumulation_steps=1, train_batch_size=4, checkpointing_steps=3,
        resolution=32, learning_rate=2e-3, seed=0,
    )  # fmt: skip
    args.update(kw)
    return TrainingConfig(**args)


@pytest.fixture(scope="module")
def lora_dir(ws, tmp_path_factory):
    from mdctcompand.diffusion import train

    # lr 1e-2: 12 steps lower the fixed-noise loss by about 20 % on this tiny random model
    config = _config(ws, tmp_path_factory.mktemp("lora"), max_train_steps=12, learning_rate=1e-2,
                     validation_prompts=["a slow rock song"], validation_steps=12, validation_inference_steps=2,
                     checkpointing_steps=100)  # fmt: skip
    return train(config, progress=False)


def _converter(directory):
    from mdctcompand.diffusion import MDCTImageConverter

    return MDCTImageConverter.from_pretrained(Path(directory) / "converter")


# ---------------------------------------------------------------------- LoRA
def test_training_lowers_fixed_noise_loss(ws, lora_dir):
    from mdctcompand.diffusion import fixed_noise_loss, load_pipeline

    base = load_pipeline(ws.model, converter=_converter(lora_dir), device="cpu")
    tuned = load_pipeline(ws.model, lora=lora_dir, device="cpu")
    assert fixed_noise_loss(tuned, ws.dataset) < 0.9 * fixed_noise_loss(base, ws.dataset)
    assert (lora_dir / "validation" / "step-12" / "00.wav").is_file()
    assert (lora_dir / "validation" / "step-12" / "00.png").is_file()


def test_adapter_reload_is_identical_keeps_alpha_and_model_card(ws, lora_dir):
    from safetensors.torch import load_file

    from mdctcompand.diffusion import load_pipeline

    a = load_pipeline(ws.model, lora=lora_dir, device="cpu")
    b = load_pipeline(ws.model, lora=lora_dir, device="cpu")
    config = next(iter(a.unet.peft_config.values()))
    assert config.lora_alpha == 8.0 and config.r == 4  # alpha != rank survives the reload
    x = a("a fast jazz piano", num_inference_steps=3, seed=1, progress=False).audios
    y = b("a fast jazz piano", num_inference_steps=3, seed=1, progress=False).audios
    np.testing.assert_array_equal(x, y)
    base = load_pipeline(ws.model, converter=_converter(lora_dir), device="cpu")
    z = base("a fast jazz piano", num_inference_steps=3, seed=1, progress=False).audios
    assert not np.allclose(x, z)  # the adapter changes the output
    weights = load_file(lora_dir / "pytorch_lora_weights.safetensors")
    assert weights and {str(v.dtype) for v in weights.values()} == {"torch.float32"}
    card = (lora_dir / "README.md").read_text()
    assert (
        card.startswith("---\nbase_model: ")
        and "load_pipeline(" in card
        and "| optimizer steps | 12 |" in card
    )


def test_save_pretrained_with_unfused_lora_reloads_the_same_model(ws, lora_dir, tmp_path):
    """Saving a pipeline whose LoRA is loaded but not fused used to write base_layer keys (meta tensors on reload)."""
    from diffusers import DiffusionPipeline

    from mdctcompand.diffusion import MDCTDiffusionPipeline, load_pipeline

    pipe = load_pipeline(ws.model, lora=lora_dir, device="cpu")
    before = pipe("a slow rock song", num_inference_steps=3, seed=2, progress=False).audios
    pipe.save_pretrained(tmp_path / "saved")
    assert pipe.unet.peft_config  # the live pipeline keeps its adapter
    again = pipe("a slow rock song", num_inference_steps=3, seed=2, progress=False).audios
    np.testing.assert_array_equal(before, again)
    for loaded in (
        MDCTDiffusionPipeline.from_pretrained(tmp_path / "saved"),
        DiffusionPipeline.from_pretrained(tmp_path / "saved", trust_remote_code=True),
        load_pipeline(tmp_path / "saved", device="cpu"),
    ):
        assert type(loaded).__name__ == "MDCTDiffusionPipeline"
        out = loaded("a slow rock song", num_inference_steps=3, seed=2, progress=False).audios
        np.testing.assert_allclose(out, before, atol=2e-3 * np.abs(before).max())


def test_fuse_lora_command_exports_a_standalone_pipeline(ws, lora_dir, tmp_path, capsys):
    from mdctcompand.cli.main import main
    from mdctcompand.diffusion import load_pipeline

    out = tmp_path / "merged"
    assert main(["fuse-lora", "--model", str(ws.model), "--lora", str(lora_dir), "-o", str(out), "-q"]) == 0
    merged = load_pipeline(out, device="cpu")
    assert not any("lora" in name for name, _ in merged.unet.named_parameters())
    unfused = load_pipeline(ws.model, lora=lora_dir, device="cpu")
    a = merged("a fast jazz piano", num_inference_steps=3, seed=4, progress=False).audios
    b = unfused("a fast jazz piano", num_inference_steps=3, seed=4, progress=False).audios
    np.testing.assert_allclose(a, b, atol=2e-3 * np.abs(b).max())
    assert (out / "README.md").read_text().count("fused") >= 1
    assert main(["fuse-lora", "--model", str(ws.model), "--lora", str(lora_dir), "-o", str(out)]) == 1
    assert "exists" in capsys.readouterr().err


def test_generate_lengths_continuation_and_img2img(ws, lora_dir):
    from mdctcompand import ParameterError
    from mdctcompand.diffusion import load_pipeline

    pipe = load_pipeline(ws.model, lora=lora_dir, device="cpu")
    one = pipe("a slow rock song", num_inference_steps=2, seed=0, progress=False)
    conv = pipe.converter
    assert one.audios.shape == (1, conv.max_samples(32)) and one.sample_rate == 8000
    long = pipe("a slow rock song", num_inference_steps=2, seed=0, audio_length_s=0.9, num_waveforms_per_prompt=2,
                guidance_scale=1.0, progress=False)  # fmt: skip
    assert long.audios.shape == (2, 7200) and np.all(np.isfinite(long.audios))
    assert not np.allclose(long.audios[0], long.audios[1])  # two waveforms, two noises
    assert long.images[0].size[0] >= conv.n_frames(7200)  # more frames than one image holds
    x = 0.5 * np.sin(2 * np.pi * 440 * np.arange(12000) / 16000)
    out = pipe("a slow rock song", num_inference_steps=2, strength=0.5, init_audio=x, init_sample_rate=16000, seed=0,
               progress=False)  # fmt: skip
    assert out.audios.shape == (1, 6000) and np.all(np.isfinite(out.audios))
    with pytest.raises(ParameterError, match="strength"):
        pipe("x", strength=0.0, progress=False)
    with pytest.raises(ParameterError, match="prompt"):
        pipe(3, progress=False)


# ---------------------------------------------------------------------- resume and logs
def test_resume_appends_the_log_and_keeps_the_config_history(ws, tmp_path):
    from mdctcompand.diffusion import train

    out = tmp_path / "resume"
    small = dict(train_batch_size=2, checkpointing_steps=2)
    train(_config(ws, out, max_train_steps=4, **small), progress=False)
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    first = json.loads((out / "training_log.json").read_text())
    train(_config(ws, out, max_train_steps=6, learning_rate=1e-3, resume_from_checkpoint="latest", **small),
          progress=False)  # fmt: skip
    log = json.loads((out / "training_log.json").read_text())
    assert log["global_step"] == 6 and [s["step"] for s in log["steps"]] == list(range(1, 7))
    assert log["steps"][:4] == first["steps"]  # kept, not overwritten
    assert [r["started_at_step"] for r in log["runs"]] == [0, 4]
    history = json.loads((out / "training_config.json").read_text())["history"]
    assert [h["config"]["learning_rate"] for h in history] == [2e-3, 1e-3]
    assert history[1]["resumed_from"].endswith("checkpoint-4")
    # resuming from an earlier checkpoint drops the log entries its weights never saw
    train(_config(ws, out, max_train_steps=3, resume_from_checkpoint=str(out / "checkpoint-2"), **small),
          progress=False)  # fmt: skip
    log = json.loads((out / "training_log.json").read_text())
    assert [s["step"] for s in log["steps"]] == [1, 2, 3] and log["steps"][:2] == first["steps"][:2]


# ---------------------------------------------------------------------- scratch
def test_scratch_pixel_unet_trains_with_caption_dropout_and_ema_and_loads_three_ways(ws, tmp_path):
    import torch
    from diffusers import DiffusionPipeline, UNet2DConditionModel

    from mdctcompand.diffusion import MDCTDiffusionPipeline, fixed_noise_loss, load_pipeline, train

    config = _config(ws, tmp_path / "scratch", mode="scratch", space="pixel", scratch_channels=(16, 32),
                     max_train_steps=4, checkpointing_steps=4, train_batch_size=2, learning_rate=3e-3,
                     ema_decay=0.5)  # fmt: skip
    assert config.effective_caption_dropout == 0.1 and config.effective_use_ema
    out = train(config, progress=False)
    saved = json.loads((out / "training_config.json").read_text())["config"]
    assert saved["scratch_channels"] == [16, 32]
    pipe = load_pipeline(out, device="cpu")
    assert pipe.vae is None and pipe.unet.config.in_channels == 1
    assert list(pipe.unet.config.block_out_channels) == [16, 32]
    audio = pipe("a slow rock song", num_inference_steps=2, seed=0, progress=False).audios
    assert audio.shape == (1, pipe.converter.max_samples(32)) and np.all(np.isfinite(audio))
    assert np.isfinite(fixed_noise_loss(pipe, ws.dataset))
    # the saved U-Net is the EMA of the weights, not the last raw weights
    raw = UNet2DConditionModel.from_pretrained(out / "checkpoint-4" / "unet")
    ema = UNet2DConditionModel.from_pretrained(out / "checkpoint-4" / "unet_ema")
    final = pipe.unet.state_dict()
    assert all(torch.equal(final[k], v) for k, v in ema.state_dict().items())
    assert not all(torch.equal(final[k], v) for k, v in raw.state_dict().items())
    assert type(MDCTDiffusionPipeline.from_pretrained(out)).__name__ == "MDCTDiffusionPipeline"
    assert DiffusionPipeline.from_pretrained(out, trust_remote_code=True).vae is None


def test_caption_dropout_replaces_captions_with_the_empty_prompt(ws):
    from transformers import CLIPTokenizer

    from mdctcompand.diffusion.data import CaptionedImages, load_rows

    rows = load_rows(ws.dataset, caption_column="caption")
    tok = CLIPTokenizer.from_pretrained(ws.model / "tokenizer")
    empty = tok("", padding="max_length", max_length=tok.model_max_length, return_tensors="pt").input_ids[0]

    def n_empty(p):
        data = CaptionedImages(rows, tok, ws.converter(), caption_column="caption", resolution=32, channels=1,
                               caption_dropout=p, seed=3)  # fmt: skip
        return sum(bool((data[i % len(data)]["input_ids"] == empty).all()) for i in range(60))

    assert n_empty(0.0) == 0 and n_empty(1.0) == 60 and 10 <= n_empty(0.5) <= 50


# ---------------------------------------------------------------------- options on par with diffusers
def test_bf16_from_accelerate_launch_is_honoured_and_options_are_saved(ws, tmp_path, monkeypatch):
    """`accelerate launch --mixed_precision bf16` sets ACCELERATE_MIXED_PRECISION; it used to be overridden by "no"."""
    import torch
    from safetensors.torch import load_file

    from mdctcompand.diffusion import load_pipeline, train

    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "bf16")
    tf32 = torch.backends.cuda.matmul.allow_tf32
    try:
        out = train(_config(ws, tmp_path / "bf16", max_train_steps=1, train_batch_size=1, checkpointing_steps=100, allow_tf32=True,
                            prediction_type="v_prediction", snr_gamma=5.0, noise_offset=0.05), progress=False)  # fmt: skip
        assert torch.backends.cuda.matmul.allow_tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32
    log = json.loads((out / "training_log.json").read_text())
    assert log["runs"][0]["mixed_precision"] == "bf16" and np.isfinite(log["steps"][-1]["loss"])
    weights = load_file(out / "pytorch_lora_weights.safetensors")
    assert {str(v.dtype) for v in weights.values()} == {"torch.float32"}  # not a bf16 adapter
    scheduler = json.loads((out / "scheduler" / "scheduler_config.json").read_text())
    assert scheduler["prediction_type"] == "v_prediction"
    pipe = load_pipeline(ws.model, lora=out, device="cpu")
    assert pipe.scheduler.config.prediction_type == "v_prediction"


class _RecordingTracker:
    """An accelerate GeneralTracker that keeps everything in memory (no package to install)."""

    def __new__(cls):
        from accelerate.tracking import GeneralTracker

        class Recorder(GeneralTracker):
            name = "recorder"
            requires_logging_directory = False
            main_process_only = True

            def __init__(self):
                super().__init__()
                self.config, self.logs = None, []

            @property
            def tracker(self):
                return self

            def store_init_configuration(self, values):
                self.config = dict(values)

            def log(self, values, step=None, **kwargs):
                self.logs.append((step, dict(values)))

        return Recorder()


def test_tracking_epochs_samples_and_latent_cache(ws, tmp_path, monkeypatch):
    from diffusers import AutoencoderKL

    from mdctcompand.diffusion import train

    encoded = []
    original = AutoencoderKL.encode

    def counting_encode(self, x, *args, **kwargs):
        encoded.append(x.shape[0])
        return original(self, x, *args, **kwargs)

    monkeypatch.setattr(AutoencoderKL, "encode", counting_encode)
    tracker = _RecordingTracker()
    out = train(_config(ws, tmp_path / "tracked", max_train_steps=None, num_train_epochs=3, max_train_samples=4,
                        train_batch_size=1, gradient_accumulation_steps=2, checkpointing_steps=100,
                        report_to=[tracker]), progress=False)  # fmt: skip
    log = json.loads((out / "training_log.json").read_text())
    assert log["global_step"] == 3 * 2  # 3 epochs x (4 images / batch 1 / accumulation 2)
    assert sum(encoded) == 4  # each of the 4 images encoded once, not once per epoch
    assert tracker.config["max_train_samples"] == 4 and tracker.config["report_to"] == "recorder"
    assert [step for step, _ in tracker.logs] == list(range(1, 7))
    assert [v["train_loss"] for _, v in tracker.logs] == [s["loss"] for s in log["steps"]]


def test_loss_meter_averages_accumulation_and_processes():
    import torch

    from mdctcompand.diffusion.losses import LossMeter

    class TwoProcesses:  # the other rank saw losses 3 then 5 on batches of 2
        def __init__(self):
            self.other = iter([(3.0, 2), (5.0, 2)])

        def reduce(self, tensor, reduction="sum"):
            assert reduction == "sum"
            loss, n = next(self.other)
            return tensor + torch.tensor([loss * n, n], dtype=tensor.dtype)

    meter, acc = LossMeter(), TwoProcesses()
    meter.add(torch.tensor(1.0), 2, acc)  # micro-batch 1 on this rank
    meter.add(torch.tensor(2.0), 1, acc)  # micro-batch 2, a smaller last batch
    assert meter.pop() == pytest.approx((1 * 2 + 3 * 2 + 2 * 1 + 5 * 2) / 7)


def test_objective_pieces_match_their_formulas():
    import torch
    from diffusers import DDPMScheduler

    from mdctcompand.diffusion.losses import diffusion_loss, min_snr_weights, offset_noise, training_target

    sched = DDPMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012)
    t = torch.tensor([0, 10, 500, 999])
    a = sched.alphas_cumprod[t].double()
    snr = a / (1 - a)
    expected = torch.minimum(snr, torch.tensor(5.0, dtype=torch.float64)) / snr
    torch.testing.assert_close(min_snr_weights(sched, t, 5.0), expected.float())
    vsched = DDPMScheduler.from_config(sched.config, prediction_type="v_prediction")
    torch.testing.assert_close(
        min_snr_weights(vsched, t, 5.0),
        (torch.minimum(snr, torch.tensor(5.0, dtype=torch.float64)) / (snr + 1)).float(),
    )
    x, eps = torch.randn(4, 2, 3, 3), torch.randn(4, 2, 3, 3)
    v = a.float().sqrt()[:, None, None, None] * eps - (1 - a.float()).sqrt()[:, None, None, None] * x
    torch.testing.assert_close(training_target(vsched, x, eps, t), v)
    assert training_target(sched, x, eps, t) is eps
    g = torch.Generator().manual_seed(0)
    shifted = offset_noise(eps, 0.5, generator=g)
    d = shifted - eps
    assert torch.allclose(d, d[..., :1, :1].expand_as(d)) and float(d.abs().max()) > 0
    w = torch.tensor([2.0, 0.0, 0.0, 0.0])
    assert float(diffusion_loss(x, x + 1, w)) == pytest.approx(0.5)


def test_optimizer_and_config_options(ws, tmp_path):
    import importlib.util
    import types

    import torch

    from mdctcompand import ParameterError
    from mdctcompand.diffusion import TrainingConfig, train
    from mdctcompand.diffusion.training import adamw_class

    mp = pytest.MonkeyPatch()
    try:
        mp.setitem(sys.modules, "bitsandbytes", None)
        with pytest.raises(ParameterError, match="pip install bitsandbytes"):
            adamw_class(True)
        stand_in = types.SimpleNamespace(optim=types.SimpleNamespace(AdamW8bit=torch.optim.Adam))
        mp.setitem(sys.modules, "bitsandbytes", stand_in)
        assert adamw_class(True) is torch.optim.Adam
    finally:
        mp.undo()
    c = TrainingConfig(
        "m", "d", "o", scale_lr=True, learning_rate=1e-4, train_batch_size=2, gradient_accumulation_steps=4
    )
    assert c.effective_learning_rate(2) == pytest.approx(1.6e-3)
    assert TrainingConfig("m", "d", "o").effective_caption_dropout == 0.0
    for bad, match in [(dict(random_flip=True), "reverses time"), (dict(mode="full"), "mode"),
                       (dict(max_train_steps=None), "num_train_epochs"), (dict(snr_gamma=0.0), "snr_gamma"),
                       (dict(prediction_type="sample"), "prediction_type"), (dict(use_ema=True), "use_ema"),
                       (dict(caption_dropout=1.5), "caption_dropout"), (dict(adam_beta2=1.0), "adam_beta2")]:  # fmt: skip
        with pytest.raises(ParameterError, match=match):
            TrainingConfig("m", "d", "o", **bad)
    if (
        importlib.util.find_spec("tensorboard") is None
    ):  # asked for, not installed: say so, do not train untracked
        with pytest.raises(ParameterError, match="not installed"):
            train(_config(ws, tmp_path / "tb", report_to="tensorboard"), progress=False)


def test_cli_sets_every_training_option():
    from mdctcompand.cli.diffusion_cmd import training_config
    from mdctcompand.cli.main import build_parser

    args = build_parser().parse_args(
        ["train-lora", "--model", "m", "--dataset", "d", "-o", "o", "--mode", "scratch", "--scratch-channels", "32,64",
         "--validation-steps", "7", "--validation-inference-steps", "3", "--caption-column", "text",
         "--caption-dropout", "0.2", "--snr-gamma", "5", "--noise-offset", "0.1", "--prediction-type", "v_prediction",
         "--report-to", "tensorboard", "--use-8bit-adam", "--allow-tf32", "--adam-beta1", "0.8", "--adam-epsilon", "1e-7",
         "--scale-lr", "--epochs", "3", "--max-train-samples", "10", "--no-ema", "--no-cache-latents"]
    )  # fmt: skip
    c = training_config(args)
    assert (c.scratch_channels, c.validation_steps, c.validation_inference_steps, c.caption_column) == (
        (32, 64),
        7,
        3,
        "text",
    )
    assert (c.caption_dropout, c.snr_gamma, c.noise_offset, c.prediction_type) == (
        0.2,
        5.0,
        0.1,
        "v_prediction",
    )
    assert (c.report_to, c.use_8bit_adam, c.allow_tf32, c.adam_beta1, c.adam_epsilon) == (
        "tensorboard",
        True,
        True,
        0.8,
        1e-7,
    )
    assert (c.scale_lr, c.max_train_steps, c.num_train_epochs, c.max_train_samples) == (True, None, 3, 10)
    assert (c.use_ema, c.cache_latents, c.mixed_precision) == (False, False, None)


def test_missing_extra_says_what_to_install():
    for use in ("from mdctcompand.diffusion import train", "import mdctcompand.diffusion.pipeline"):
        code = f"import sys; sys.modules['peft'] = None; {use}"
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert r.returncode != 0 and "'diffusion' extra" in r.stderr and "peft" in r.stderr, use
    # the training settings (the command line's train-lora options) need none of the extra
    code = "import sys; sys.modules['torch'] = None; from mdctcompand.diffusion.config import TrainingConfig; print('ok')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    # datasets is needed to read a built dataset only (the device check runs without it)
    code = (
        "import sys; sys.modules['datasets'] = None; import mdctcompand.diffusion\n"
        "from mdctcompand.diffusion.data import load_rows\n"
        "load_rows('.', caption_column='caption')"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode != 0 and "needs datasets" in r.stderr and "pip install datasets" in r.stderr
