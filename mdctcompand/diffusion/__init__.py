"""Optional extra: LoRA fine-tuning and text-to-audio sampling on companded-MDCT images.

Install the ``diffusion`` extra (``python -m pip install '.[diffusion]'`` in the source tree) (torch, diffusers, peft,
transformers, accelerate). ``import mdctcompand`` never imports any of them; the first use of
this subpackage's names (``from mdctcompand.diffusion import train``) checks for them and says
exactly what is missing. :class:`TrainingConfig` (``mdctcompand.diffusion.config``) needs none
of them: the command line reads its fields for ``train-lora``'s options.

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

import lazy_loader

# The public names, listed once in __init__.pyi, load on first use; the modules that need the
# extra import ``._extra`` first, which says what is missing.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
