"""Optional extra: LoRA fine-tuning and text-to-audio sampling on companded-MDCT images.

Install the ``diffusion`` extra (``python -m pip install '.[diffusion]'`` in the source tree) (torch, diffusers, peft,
transformers, accelerate). ``import mdctcompand`` never imports any of them; importing this
subpackage checks for them and says exactly what is missing.

- :class:`MDCTDiffusionPipeline`: text-to-audio and audio-to-audio sampling (a diffusers
  pipeline whose audio/image converter is a saved component);
- :func:`train` with :class:`TrainingConfig`: LoRA fine-tuning of a Stable-Diffusion-style
  model, or training a small U-Net from scratch (pixel or latent space), through accelerate;
- :func:`export_fused`: a LoRA fused into its base model, saved as a standalone pipeline;
- :func:`build_stable_diffusion`: SD-shaped models built from configs (tiny ones for tests).

Long audio is generated image after image (:mod:`~mdctcompand.diffusion.sampling`); the
audio <-> image transform is reached only through :class:`MDCTImageConverter` (the seam
a stereo layout or the torch converter plugs into).
"""

from __future__ import annotations

import importlib.util

#: Needed to import the extra; ``datasets`` (reading a built dataset for training) is checked where it is used.
_REQUIRED = ("torch", "diffusers", "peft", "transformers", "accelerate")


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # e.g. sys.modules[name] is None
        return False


_missing = [name for name in _REQUIRED if not _installed(name)]
if _missing:
    raise ImportError(
        f"mdctcompand.diffusion needs {', '.join(_missing)} (not installed): pip install {' '.join(_missing)}, "
        "or the 'diffusion' extra (python -m pip install '.[diffusion]' in the source tree); pin torch, "
        "e.g. torch==2.13.0, to keep a CPU build"
    )

from .components import MDCTImageConverter, resolve_device  # noqa: E402
from .config import TrainingConfig  # noqa: E402
from .export import export_fused  # noqa: E402
from .models import build_stable_diffusion, sd15_unet_config, small_unet_config  # noqa: E402
from .pipeline import MDCTDiffusionPipeline, MDCTPipelineOutput, load_pipeline  # noqa: E402
from .training import fixed_noise_loss, train  # noqa: E402

__all__ = [
    "MDCTDiffusionPipeline",
    "MDCTImageConverter",
    "MDCTPipelineOutput",
    "TrainingConfig",
    "build_stable_diffusion",
    "export_fused",
    "fixed_noise_loss",
    "load_pipeline",
    "resolve_device",
    "sd15_unet_config",
    "small_unet_config",
    "train",
]
