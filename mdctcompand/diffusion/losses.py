"""The training objective: noise (with an offset), the target, min-SNR weights, and the logged loss.

Each piece is a small function checked against its formula in the tests:

- :func:`offset_noise`: ``noise + offset * N(0, 1)`` per image and channel (Guttenberg's
  noise offset, as ``--noise_offset`` in diffusers' scripts);
- :func:`training_target`: the noise (``epsilon``) or the velocity ``v = sqrt(a) eps -
  sqrt(1 - a) x0`` (``v_prediction``);
- :func:`min_snr_weights`: ``min(SNR, gamma) / SNR`` (epsilon) or ``min(SNR, gamma) /
  (SNR + 1)`` (v), with ``SNR = a / (1 - a)`` (Hang et al. 2023, "Min-SNR");
- :func:`diffusion_loss`: per-sample MSE, weighted, averaged;
- :class:`LossMeter`: the logged loss of one optimizer step, averaged over its
  accumulation micro-batches and over all processes (weighted by samples).
"""

from __future__ import annotations

from typing import Any

import torch

from ..exceptions import ParameterError

__all__ = ["LossMeter", "diffusion_loss", "min_snr_weights", "offset_noise", "training_target"]


def offset_noise(
    noise: torch.Tensor, offset: float, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``noise + offset * N(0, 1)``, the added term constant over each image's pixels (per channel).

    Examples
    --------
    >>> import torch
    >>> n = torch.zeros(2, 4, 8, 8)
    >>> shifted = offset_noise(n, 0.1, generator=torch.Generator().manual_seed(0))
    >>> bool((shifted - n).std(dim=(2, 3)).max() == 0), bool(shifted.abs().max() > 0)
    (True, True)
    """
    if offset == 0:
        return noise
    extra = torch.randn((noise.shape[0], noise.shape[1], 1, 1), generator=generator, dtype=torch.float32)
    return noise + offset * extra.to(noise.device, noise.dtype)


def training_target(
    scheduler: Any, latents: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor
) -> torch.Tensor:
    """What the U-Net learns to predict under ``scheduler.config.prediction_type``.

    Examples
    --------
    >>> import torch
    >>> from diffusers import DDPMScheduler
    >>> x, eps, t = torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), torch.tensor([999])
    >>> float(training_target(DDPMScheduler(), x, eps, t).abs().max())
    0.0
    >>> v = training_target(DDPMScheduler(prediction_type="v_prediction"), x, eps, t)  # -sqrt(1 - a) x
    >>> round(float(v[0, 0, 0, 0]), 3)
    -1.0
    """
    kind = scheduler.config.prediction_type
    if kind == "epsilon":
        return noise
    if kind == "v_prediction":
        return scheduler.get_velocity(latents, noise, timesteps)
    raise ParameterError(f"prediction_type={kind!r}: training supports 'epsilon' and 'v_prediction'")


def min_snr_weights(scheduler: Any, timesteps: torch.Tensor, gamma: float) -> torch.Tensor:
    """Per-sample loss weights of Min-SNR-gamma for the scheduler's prediction type.

    Examples
    --------
    >>> import torch
    >>> from diffusers import DDPMScheduler
    >>> w = min_snr_weights(DDPMScheduler(), torch.tensor([0, 999]), 5.0)
    >>> bool(w[0] < 0.01), float(w[1])  # clean steps (huge SNR) weigh little, noisy ones 1
    (True, 1.0)
    """
    # float64 on the CPU (Apple MPS has no float64), then back to the timesteps' device
    a = scheduler.alphas_cumprod.detach().cpu().double()[timesteps.cpu()]
    snr = a / (1.0 - a)
    clipped = torch.clamp(snr, max=float(gamma))
    weights = clipped / (snr + 1.0) if scheduler.config.prediction_type == "v_prediction" else clipped / snr
    return weights.float().to(timesteps.device)


def diffusion_loss(
    prediction: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean over samples of (weight x per-sample MSE), in float32.

    Examples
    --------
    >>> import torch
    >>> p, t = torch.zeros(2, 1, 2, 2), torch.stack([torch.ones(1, 2, 2), 2 * torch.ones(1, 2, 2)])
    >>> float(diffusion_loss(p, t)), float(diffusion_loss(p, t, torch.tensor([1.0, 0.0])))
    (2.5, 0.5)
    """
    per_sample = torch.mean((prediction.float() - target.float()) ** 2, dim=tuple(range(1, prediction.ndim)))
    if weights is not None:
        per_sample = per_sample * weights.to(per_sample)
    return per_sample.mean()


class LossMeter:
    """The logged loss of an optimizer step: the mean over its micro-batches and processes.

    ``add`` is called after every micro-batch with that process's loss and batch size; it
    sums ``loss x samples`` and ``samples`` over the processes (``accelerator.reduce``), so
    ``value`` is the per-sample mean of everything that went into the step, on every rank.

    Examples
    --------
    >>> import torch
    >>> class OneProcess:  # what accelerate's reduce does with a single process
    ...     def reduce(self, tensor, reduction="sum"):
    ...         return tensor
    >>> meter = LossMeter()
    >>> meter.add(torch.tensor(1.0), 2, OneProcess())
    >>> meter.add(torch.tensor(4.0), 2, OneProcess())
    >>> meter.pop()
    2.5
    """

    def __init__(self) -> None:
        self._sum = 0.0
        self._count = 0.0

    def add(self, loss: torch.Tensor, batch_size: int, accelerator: Any) -> None:
        """Record one micro-batch's mean loss on this process.

        Examples
        --------
        >>> import torch
        >>> class TwoProcesses:  # the other process had loss 3 on 1 sample
        ...     def reduce(self, tensor, reduction="sum"):
        ...         return tensor + torch.tensor([3.0, 1.0], dtype=tensor.dtype)
        >>> meter = LossMeter()
        >>> meter.add(torch.tensor(1.0), 1, TwoProcesses())
        >>> meter.pop()
        2.0
        """
        local = torch.stack(
            [loss.detach().float() * batch_size, loss.new_tensor(batch_size, dtype=torch.float32)]
        )
        total = accelerator.reduce(local, reduction="sum")
        self._sum += float(total[0])
        self._count += float(total[1])

    def pop(self) -> float:
        """The mean so far, and start over (call once per optimizer step).

        Examples
        --------
        >>> LossMeter().pop()
        Traceback (most recent call last):
        ...
        mdctcompand.exceptions.ParameterError: no loss recorded since the last step
        """
        if self._count == 0:
            raise ParameterError("no loss recorded since the last step")
        value = self._sum / self._count
        self._sum = self._count = 0.0
        return value
