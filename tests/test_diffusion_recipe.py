"""The documented recipe (docs/datasets.rst, "From captioned audio to an evaluated model"), end to end at tiny scale.

Captioned audio -> ``dataset build`` -> ``train-lora`` -> ``generate`` (long audio, several
waveforms) -> ``fuse-lora`` -> ``evaluate --json``: the same commands as the docs, run
in-process with a tiny profile and model built locally.
"""

import json
import shutil

import numpy as np
import pytest
import soundfile as sf
from extras import require_diffusion_extra

require_diffusion_extra()

pytestmark = [pytest.mark.diffusion, pytest.mark.usefixtures("diffusion_offline")]


def test_recipe_from_captioned_audio_to_evaluation(tmp_path, capsys):
    from mdctcompand.cli.main import main
    from mdctcompand.diffusion.testing import tiny_workspace

    ws = tiny_workspace()  # a tiny profile (8 kHz, 32 bands) and a tiny SD-shaped base model
    audio = tmp_path / "audio"
    shutil.copytree(ws.root / "audio", audio)  # 6 clips and captions.jsonl: {"audio": ..., "caption": ...}

    def run(*argv):
        assert main([str(a) for a in argv]) == 0, capsys.readouterr().err

    # 1. dataset
    run("dataset", "build", "--captions", audio / "captions.jsonl", "-o", tmp_path / "dataset", "--frames", 32,
        "--profile", ws.profile, "--workers", 1, "-q")  # fmt: skip
    # 2. training (LoRA; --mode scratch trains a U-Net from scratch with the same command)
    run("train-lora", "--model", ws.model, "--dataset", tmp_path / "dataset", "-o", tmp_path / "lora",
        "--max-steps", 2, "--batch-size", 2, "--gradient-accumulation-steps", 1, "--resolution", 32,
        "--snr-gamma", 5, "--checkpointing-steps", 100, "-q")  # fmt: skip
    # 3. generation: two 0.6 s waveforms (several images each), then the adapter fused for sharing
    run("generate", "a slow rock song", "--model", ws.model, "--lora", tmp_path / "lora", "--steps", 2,
        "--seconds", 0.6, "--batch", 2, "--seed", 0, "--scheduler", "dpm++", "--device", "cpu",
        "-o", tmp_path / "generated" / "rock.wav", "-q")  # fmt: skip
    run("fuse-lora", "--model", ws.model, "--lora", tmp_path / "lora", "-o", tmp_path / "merged", "-q")
    run("generate", "a fast jazz piano", "--model", tmp_path / "merged", "--steps", 2, "--seconds", 0.6, "--seed", 1,
        "--device", "cpu", "-o", tmp_path / "generated" / "jazz.wav", "-q")  # fmt: skip
    files = sorted((tmp_path / "generated").iterdir())
    assert [f.name for f in files] == ["jazz.wav", "rock.wav", "rock_1.wav"]
    assert all(sf.info(f).frames == 4800 and sf.info(f).samplerate == 8000 for f in files)
    capsys.readouterr()
    # 4. evaluation against the training audio
    run("evaluate", tmp_path / "generated", "--reference", audio, "--json", "--kid-subsets", 5)
    result = json.loads(capsys.readouterr().out)
    assert np.isfinite(result["frechet_distance"]) and result["frechet_distance"] > 0
    assert result["generated"]["clips"] == 3 and result["reference"]["clips"] == 6
    assert result["embedding"].startswith("mel-mdct-v2") and result["loudness_lufs"] == -23.0
