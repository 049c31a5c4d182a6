"""Long-form sampling: the image plan, a fresh scheduler per image, and seamless joins.

Audio longer than one image is generated image after image. Image ``i`` covers frames
``[i * step, i * step + width)`` with ``step = width - overlap``: consecutive images share
``overlap`` frames. Each image is denoised with its *own* scheduler (re-created from the
pipeline scheduler's config, then ``set_timesteps``), because multistep and stateful
schedulers (PNDM, DPM-Solver++, Euler's step index) carry per-trajectory state. The
shared columns of the new image are pinned to the previous image's final latents (noised
to the current noise level at every step, as in RePaint). The decoded images are joined
in the middle of the overlap with a short crossfade (:func:`crossfade_weights`), so
neither image's border columns (where the U-Net and the VAE see zero padding) are heard.

Examples
--------
>>> plan = LongFormPlan.for_frames(1200, width=512, overlap=64, factor=8)
>>> plan.n_images, plan.step, plan.padded_frames
(3, 448, 1408)
>>> import numpy as np
>>> a, b = np.zeros((1, 1, 10)), np.ones((1, 1, 10))
>>> crossfade_join([a, b], overlap=8)[0, 0]  # 8 shared columns: a's, a crossfade, b's
array([0.  , 0.  , 0.  , 0.  , 0.  , 0.25, 0.75, 1.  , 1.  , 1.  , 1.  , 1.  ])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..exceptions import ParameterError

__all__ = [
    "SCHEDULERS",
    "LongFormPlan",
    "crossfade_join",
    "crossfade_weights",
    "denoising_timesteps",
    "fresh_scheduler",
    "join_level_difference",
]


#: Sampler names (``generate --scheduler``) -> diffusers scheduler classes; all take SD's scheduler config.
SCHEDULERS = {
    "ddim": "DDIMScheduler", "pndm": "PNDMScheduler", "euler": "EulerDiscreteScheduler",
    "euler-ancestral": "EulerAncestralDiscreteScheduler", "dpm++": "DPMSolverMultistepScheduler",
    "heun": "HeunDiscreteScheduler", "lms": "LMSDiscreteScheduler", "unipc": "UniPCMultistepScheduler",
    "dpm2": "KDPM2DiscreteScheduler",
}  # fmt: skip


@dataclass(frozen=True)
class LongFormPlan:
    """How ``total_frames`` frames are covered by images of ``width`` frames sharing ``overlap``.

    Examples
    --------
    >>> LongFormPlan.for_frames(30, width=32, overlap=4, factor=2)
    LongFormPlan(width=32, overlap=4, n_images=1, total_frames=30)
    """

    width: int
    overlap: int
    n_images: int
    total_frames: int

    @classmethod
    def for_frames(cls, total_frames: int, *, width: int, overlap: int, factor: int = 1) -> LongFormPlan:
        """Plan for ``total_frames`` frames; ``overlap`` is rounded down to a multiple of ``factor``.

        Examples
        --------
        >>> LongFormPlan.for_frames(100, width=32, overlap=5, factor=2).overlap
        4
        """
        if total_frames < 1:
            raise ParameterError(f"total_frames={total_frames} must be >= 1")
        if overlap < 0:
            raise ParameterError(f"overlap={overlap} must be >= 0")
        overlap = max(0, min(int(overlap) // factor * factor, width - factor))
        step = width - overlap
        n_images = 1 + max(0, math.ceil((total_frames - width) / step))
        return cls(width, overlap, n_images, int(total_frames))

    @property
    def step(self) -> int:
        """Frames between the starts of consecutive images.

        Examples
        --------
        >>> LongFormPlan(32, 4, 3, 80).step
        28
        """
        return self.width - self.overlap

    @property
    def padded_frames(self) -> int:
        """Frames covered by all images (>= ``total_frames``).

        Examples
        --------
        >>> LongFormPlan(32, 4, 3, 80).padded_frames
        88
        """
        return self.width + (self.n_images - 1) * self.step

    def start(self, index: int) -> int:
        """First frame of image ``index``.

        Examples
        --------
        >>> LongFormPlan(32, 4, 3, 80).start(2)
        56
        """
        return index * self.step

    def joins(self) -> list[tuple[int, int]]:
        """Frame ranges ``[start, stop)`` shared by consecutive images (the crossfades).

        Examples
        --------
        >>> LongFormPlan(32, 4, 3, 80).joins()
        [(28, 32), (56, 60)]
        """
        return [(self.start(i), self.start(i) + self.overlap) for i in range(1, self.n_images)]


def fresh_scheduler(scheduler: Any) -> Any:
    """A new scheduler of the same class and config, with no trajectory state.

    Examples
    --------
    >>> from diffusers import EulerDiscreteScheduler
    >>> s = EulerDiscreteScheduler()
    >>> s.set_timesteps(4)
    >>> len(s.timesteps), len(fresh_scheduler(s).timesteps), fresh_scheduler(s).config == s.config
    (4, 1000, True)
    """
    return type(scheduler).from_config(scheduler.config)


def denoising_timesteps(scheduler: Any, num_inference_steps: int, strength: float, device: Any) -> Any:
    """``set_timesteps``, then the timesteps that denoise from ``strength`` (1: pure noise) to 0.

    As diffusers' image-to-image pipelines: the first ``(1 - strength)`` of the schedule is
    skipped (times the scheduler's order) and the scheduler's begin index is set to match,
    so ``add_noise`` and ``step`` agree on the noise level.

    Examples
    --------
    >>> from diffusers import DDIMScheduler
    >>> s = DDIMScheduler()
    >>> denoising_timesteps(s, 10, 1.0, "cpu").tolist()
    [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]
    >>> denoising_timesteps(DDIMScheduler(), 10, 0.3, "cpu").tolist()
    [200, 100, 0]
    """
    scheduler.set_timesteps(num_inference_steps, device=device)
    init = min(int(num_inference_steps * strength), num_inference_steps)
    start = max(num_inference_steps - init, 0)
    order = int(getattr(scheduler, "order", 1))
    timesteps = scheduler.timesteps[start * order :]
    if len(timesteps) == 0:
        raise ParameterError(
            f"strength={strength} leaves no denoising steps with num_inference_steps={num_inference_steps}"
        )
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(start * order)
    return timesteps


def crossfade_weights(overlap: int) -> np.ndarray:
    """Weights of the new image across an overlap: 0, a linear ramp over the middle quarter, 1.

    The shared columns come from the previous image in the first half and from the new
    image in the second half, with a short crossfade at the centre, so neither image's
    border columns (where the U-Net and the VAE decoder see zero padding, and the decoded
    codes lose about half their spread) are used, and the two images are mixed only where
    they agree best (the pinned latents decode to nearly equal columns away from the borders;
    a long crossfade of partly different columns would lose energy, as averaging does).

    Examples
    --------
    >>> crossfade_weights(8)
    array([0.  , 0.  , 0.  , 0.25, 0.75, 1.  , 1.  , 1.  ])
    >>> crossfade_weights(1)
    array([0.5])
    """
    if overlap < 0:
        raise ParameterError(f"overlap={overlap} must be >= 0")
    fade = max(1, overlap // 4)
    return np.clip((np.arange(overlap) + 0.5 - overlap / 2) / fade + 0.5, 0.0, 1.0)


def crossfade_join(images: list[Any], *, overlap: int) -> Any:
    """Join images ``(..., H, width)`` that share ``overlap`` columns (see :func:`crossfade_weights`).

    Column ``j`` of an overlap is ``(1 - w_j) * previous + w_j * new``. Numpy arrays or torch
    tensors (joined on their device).

    Examples
    --------
    >>> import numpy as np
    >>> crossfade_join([np.zeros((2, 3)), np.full((2, 3), 8.0)], overlap=0).shape
    (2, 6)
    >>> import torch
    >>> crossfade_join([torch.zeros(2, 4), torch.ones(2, 4)], overlap=2)[0].tolist()
    [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    """
    if not images:
        raise ParameterError("no images to join")
    if overlap < 0 or any(overlap > im.shape[-1] for im in images):
        raise ParameterError(f"overlap={overlap} must be in [0, image width]")
    out = images[0]
    w: Any = crossfade_weights(overlap)  # numpy weights, or a tensor of them
    concat: Callable[[list[Any]], Any]
    if isinstance(out, np.ndarray):
        concat = functools.partial(np.concatenate, axis=-1)
    else:
        import torch

        concat = functools.partial(torch.cat, dim=-1)
        w = torch.as_tensor(w, dtype=out.dtype, device=out.device)
    for image in images[1:]:
        if overlap:
            mixed = (1.0 - w) * out[..., out.shape[-1] - overlap :] + w * image[..., :overlap]
            out = concat([out[..., : out.shape[-1] - overlap], mixed, image[..., overlap:]])
        else:
            out = concat([out, image])
    return out


def join_level_difference(
    audios: np.ndarray, plan: LongFormPlan, hop_length: int, *, frames: int = 2
) -> float:
    """Level at image borders minus level elsewhere, in dB (the measure of a dip or bump at joins).

    Frame ``j`` is the block of ``hop_length`` samples starting at ``j * hop_length``; its
    level is the mean over the waveforms of ``10 log10`` of its mean power (mean log-energy). For every join, the
    ``frames`` frames on each side of both image borders (the previous image's last
    columns and the new image's first columns) are *near* frames; the result is the
    larger in magnitude of the two border groups' mean level minus the mean level of
    the frames more than ``frames`` away from any join.

    Examples
    --------
    >>> import numpy as np
    >>> plan = LongFormPlan.for_frames(100, width=32, overlap=8)
    >>> x = np.random.default_rng(0).standard_normal((8, 100 * 64))
    >>> abs(join_level_difference(x, plan, 64)) < 0.5  # no dip in plain noise
    True
    >>> x[:, 30 * 64 : 32 * 64] *= 0.1  # 20 dB down in the last 2 columns of image 0 (1 join of 3)
    >>> round(join_level_difference(x, plan, 64))
    -6
    """
    audios = np.atleast_2d(np.asarray(audios, dtype=np.float64))
    n = audios.shape[-1] // hop_length
    blocks = audios[:, : n * hop_length].reshape(audios.shape[0], n, hop_length)
    level = np.mean(10 * np.log10(np.mean(blocks**2, axis=2) + 1e-20), axis=0)  # mean over waveforms of dB
    near = np.zeros(n, bool)
    ends: list[int] = []
    starts: list[int] = []
    for a, b in plan.joins():
        if b + frames > n:
            continue
        near[max(0, a - frames) : b + frames] = True
        starts.extend(range(a, a + frames))  # the new image's first columns
        ends.extend(range(b - frames, b))  # the previous image's last columns
    if not starts or near.all():
        raise ParameterError("no join with enough frames around it to measure")
    rest = level[~near].mean()
    diffs = [level[starts].mean() - rest, level[ends].mean() - rest]
    return float(max(diffs, key=abs))
