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
  accumulation micro-batches and over all processes (weighted by samples);
- :func:`predicted_clean`: the clean latent (or image) the U-Net's prediction implies;
- :func:`multi_resolution_stft_loss`: the waveform-domain loss (spectral convergence plus
  log-magnitude L1 over several STFT resolutions, Yamamoto et al. 2020, "Parallel WaveGAN"),
  used on audio decoded through :mod:`mdctcompand.torch` by ``waveform_loss_weight``.
"""

from __future__ import annotations

from . import _extra  # noqa: F401  (first: names what the extra needs before torch is imported)

# isort: split

from typing import Any

import torch

from ..exceptions import ParameterError

__all__ = [
    "STFT_RESOLUTIONS",
    "LossMeter",
    "denoising_loss",
    "diffusion_loss",
    "min_snr_weights",
    "multi_resolution_stft_loss",
    "offset_noise",
    "predicted_clean",
    "stft_magnitude",
    "training_target",
    "waveform_loss",
]

#: ``(n_fft, hop_length, win_length)`` of the multi-resolution STFT loss: Parallel WaveGAN's
#: standard three resolutions (Hann windows).
STFT_RESOLUTIONS: tuple[tuple[int, int, int], ...] = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))

#: Floor of the squared magnitude before the square root and the log (as Parallel WaveGAN).
MAGNITUDE_FLOOR = 1e-7


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


def denoising_loss(
    unet: Any,
    text_encoder: Any,
    scheduler: Any,
    latents: torch.Tensor,
    input_ids: torch.Tensor,
    *,
    noise_offset: float = 0.0,
    snr_gamma: float | None = None,
    waveform: Any = None,
    waveform_weight: float = 0.0,
) -> torch.Tensor:
    """The loss of one training micro-batch of clean ``latents`` (what ``train`` minimizes).

    Offset noise (:func:`offset_noise`) at a random timestep per sample, the scheduler's noisy
    latents, the U-Net's prediction against :func:`training_target`, the (min-SNR weighted,
    :func:`min_snr_weights`) :func:`diffusion_loss`, plus ``waveform_weight`` times
    ``waveform(latents, noisy, prediction, timesteps)`` (e.g. :func:`waveform_loss` through the
    VAE's decoder). Random draws: the noise, then the timesteps.

    Examples
    --------
    >>> import torch
    >>> from types import SimpleNamespace
    >>> from diffusers import DDPMScheduler
    >>> unet = lambda x, t, states: SimpleNamespace(sample=torch.zeros_like(x))  # predicts zero noise
    >>> encoder = lambda ids: (torch.zeros(ids.shape[0], 1, 8),)
    >>> loss = denoising_loss(unet, encoder, DDPMScheduler(), torch.zeros(2, 4, 8, 8), torch.zeros(2, 1, dtype=torch.long))
    >>> 0.5 < float(loss) < 1.5  # the noise's variance
    True
    """
    noise = offset_noise(torch.randn_like(latents), noise_offset)
    t = torch.randint(0, scheduler.config.num_train_timesteps, (latents.shape[0],), device=latents.device)
    noisy = scheduler.add_noise(latents, noise, t)
    states = text_encoder(input_ids.to(latents.device))[0]
    target = training_target(scheduler, latents, noise, t)
    prediction = unet(noisy, t, states).sample
    weights = min_snr_weights(scheduler, t, snr_gamma) if snr_gamma is not None else None
    loss = diffusion_loss(prediction, target, weights)
    if waveform_weight > 0:
        loss = loss + waveform_weight * waveform(latents, noisy, prediction, t)
    return loss


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


def predicted_clean(
    scheduler: Any, noisy: torch.Tensor, prediction: torch.Tensor, timesteps: torch.Tensor
) -> torch.Tensor:
    """The clean sample ``x0`` implied by the U-Net's prediction (``epsilon`` or ``v_prediction``).

    ``x0 = (x_t - sqrt(1 - a) eps) / sqrt(a)`` or ``x0 = sqrt(a) x_t - sqrt(1 - a) v`` with
    ``a = alphas_cumprod[t]``; differentiable in ``prediction``.

    Examples
    --------
    >>> import torch
    >>> from diffusers import DDPMScheduler
    >>> s, x0, eps, t = DDPMScheduler(), torch.randn(2, 1, 4, 4), torch.randn(2, 1, 4, 4), torch.tensor([10, 500])
    >>> torch.allclose(predicted_clean(s, s.add_noise(x0, eps, t), eps, t), x0, atol=1e-4)
    True
    """
    a = scheduler.alphas_cumprod.to(device=noisy.device, dtype=torch.float32)[timesteps]
    a = a.reshape(-1, *([1] * (noisy.ndim - 1)))
    x_t, pred = noisy.float(), prediction.float()
    kind = scheduler.config.prediction_type
    if kind == "epsilon":
        return (x_t - torch.sqrt(1.0 - a) * pred) / torch.sqrt(a)
    if kind == "v_prediction":
        return torch.sqrt(a) * x_t - torch.sqrt(1.0 - a) * pred
    raise ParameterError(f"prediction_type={kind!r}: training supports 'epsilon' and 'v_prediction'")


def stft_magnitude(audio: torch.Tensor, n_fft: int, hop_length: int, win_length: int) -> torch.Tensor:
    """``sqrt(max(|STFT|^2, 1e-7))`` of ``audio (..., n)``: ``(..., n_frames, n_fft // 2 + 1)``.

    Periodic Hann window of ``win_length`` centred in ``n_fft``; frames centred on multiples
    of ``hop_length`` with ``n_fft // 2`` zeros padded on both sides (so clips shorter than
    ``n_fft`` work).

    Examples
    --------
    >>> import torch
    >>> tuple(stft_magnitude(torch.zeros(2, 1000), 512, 50, 240).shape)
    (2, 21, 257)
    """
    if not (0 < win_length <= n_fft and hop_length > 0):
        raise ParameterError(
            f"STFT resolution n_fft={n_fft}, hop_length={hop_length}, win_length={win_length}: need "
            "0 < win_length <= n_fft and hop_length > 0"
        )
    lead, n = audio.shape[:-1], audio.shape[-1]
    window = torch.hann_window(win_length, dtype=audio.dtype, device=audio.device)
    spec = torch.stft(
        audio.reshape(-1, n), n_fft, hop_length=hop_length, win_length=win_length, window=window,
        center=True, pad_mode="constant", return_complex=True,
    )  # fmt: skip
    power = spec.real.square() + spec.imag.square()
    return torch.sqrt(power.clamp_min(MAGNITUDE_FLOOR)).transpose(-1, -2).reshape(*lead, -1, n_fft // 2 + 1)


def multi_resolution_stft_loss(
    prediction: torch.Tensor,
    target: torch.Tensor,
    *,
    resolutions: tuple[tuple[int, int, int], ...] = STFT_RESOLUTIONS,
    reduction: str = "mean",
) -> torch.Tensor:
    """Multi-resolution STFT loss between waveforms ``(B, n)`` or ``(B, channels, n)``.

    For each resolution ``(n_fft, hop, win)`` and each waveform, with magnitudes ``P`` and
    ``T`` (:func:`stft_magnitude`): spectral convergence ``||T - P||_F / ||T||_F`` plus the
    log-magnitude L1 ``mean |log T - log P|``. The per-sample loss is the mean over
    resolutions and channels of that sum; ``reduction="none"`` returns it ``(B,)``,
    ``"mean"`` its mean. Computed in the inputs' float dtype (float32 at least).

    Examples
    --------
    >>> import torch
    >>> x = torch.randn(2, 4000, generator=torch.Generator().manual_seed(0))
    >>> float(multi_resolution_stft_loss(x, x))
    0.0
    >>> tuple(multi_resolution_stft_loss(0.5 * x, x, reduction="none").shape)
    (2,)
    """
    if reduction not in ("mean", "none"):
        raise ParameterError(f"reduction={reduction!r} must be 'mean' or 'none'")
    if prediction.shape != target.shape or prediction.ndim not in (2, 3):
        raise ParameterError(
            f"prediction {tuple(prediction.shape)} and target {tuple(target.shape)} must be equal (B, n) or (B, C, n)"
        )
    if not resolutions:
        raise ParameterError("resolutions is empty")
    dtype = torch.promote_types(prediction.dtype, torch.float32)
    p = prediction.to(dtype).reshape(prediction.shape[0], -1, prediction.shape[-1])
    t = target.to(dtype).reshape(p.shape)
    total = p.new_zeros(p.shape[:2])
    for n_fft, hop, win in resolutions:
        mp, mt = stft_magnitude(p, n_fft, hop, win), stft_magnitude(t, n_fft, hop, win)
        convergence = torch.linalg.vector_norm(mt - mp, dim=(-2, -1)) / torch.linalg.vector_norm(
            mt, dim=(-2, -1)
        )
        log_l1 = (torch.log(mt) - torch.log(mp)).abs().mean(dim=(-2, -1))
        total = total + convergence + log_l1
    per_sample = total.mean(dim=1) / len(resolutions)
    return per_sample if reduction == "none" else per_sample.mean()


def waveform_loss(
    converter: Any,
    scheduler: Any,
    clean: torch.Tensor,
    noisy: torch.Tensor,
    prediction: torch.Tensor,
    timesteps: torch.Tensor,
    *,
    images_from_model: Any = None,
    resolutions: tuple[tuple[int, int, int], ...] = STFT_RESOLUTIONS,
) -> torch.Tensor:
    """MR-STFT loss between the audio of ``clean`` and of the clean sample ``prediction`` implies.

    Both go model space -> images in [-1, 1] (``images_from_model``, e.g. the frozen VAE's
    decoder; default: the samples are the images) -> code values -> audio through the
    converter's torch path (:meth:`~mdctcompand.diffusion.MDCTImageConverter.audio_from_tensor`:
    continuous inverse compander and IMDCT on the samples' device). Only the prediction's
    side keeps a graph. Each sample's loss is weighted by ``alphas_cumprod[t]`` (near 0 at pure
    noise, where the implied clean sample means little), then averaged.

    Examples
    --------
    >>> import torch
    >>> from diffusers import DDPMScheduler
    >>> from mdctcompand.diffusion import MDCTImageConverter
    >>> conv, s = MDCTImageConverter(), DDPMScheduler()
    >>> x0 = torch.rand(1, 1, 512, 16) * 2 - 1
    >>> eps, t = torch.randn_like(x0), torch.tensor([100])
    >>> round(float(waveform_loss(conv, s, x0, s.add_noise(x0, eps, t), eps, t)), 4)  # the true noise: no loss
    0.0
    """
    decode = images_from_model if images_from_model is not None else (lambda x: x.float())
    implied = predicted_clean(scheduler, noisy, prediction, timesteps)
    with torch.no_grad():
        target = converter.audio_from_tensor(decode(clean))
    predicted = converter.audio_from_tensor(decode(implied))
    per_sample = multi_resolution_stft_loss(predicted, target, resolutions=resolutions, reduction="none")
    signal = scheduler.alphas_cumprod.to(device=per_sample.device, dtype=per_sample.dtype)[timesteps]
    return (per_sample * signal).mean()
