"""Figures for profiles, code images and fits (needs matplotlib: the ``bench``/``docs`` extras)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .exceptions import ParameterError

__all__ = ["plot_band_fits", "plot_codes", "plot_profile"]


def _pyplot():
    try:
        import matplotlib

        if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps") and not _has_display():
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ParameterError("plotting needs matplotlib: pip install matplotlib (or the 'bench' extra)") from exc
    return plt


def _has_display() -> bool:
    import os

    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def plot_profile(profile: Any, *, others: dict[str, Any] | None = None):
    """Shape and scale of every band against frequency (log axes); returns the Figure.

    ``others`` maps labels to more profiles drawn on the same axes.

    Examples
    --------
    >>> from mdctcompand import default_profile
    >>> fig = plot_profile(default_profile())
    >>> [ax.get_title() for ax in fig.axes]
    ['shape per band', 'scale per band']
    """
    plt = _pyplot()
    fig, (ax_shape, ax_scale) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    for label, p in {profile.name: profile, **(others or {})}.items():
        f = p.band_frequencies()
        ax_shape.semilogx(f, p.shape, label=label)
        ax_scale.loglog(f, p.scale, label=label)
    ax_shape.set(xlabel="band centre (Hz)", ylabel="GGD shape g", title="shape per band")
    ax_scale.set(xlabel="band centre (Hz)", ylabel="GGD scale a", title="scale per band")
    for ax in (ax_shape, ax_scale):
        ax.grid(True, which="both", alpha=0.3)
    ax_shape.legend()
    return fig


def plot_codes(codes: np.ndarray, *, sample_rate: int, hop_length: int, ax: Any = None, title: str = ""):
    """Show an 8-bit code image (bands x frames, low frequencies at the bottom) with time and frequency axes.

    Examples
    --------
    >>> from mdctcompand import AudioImageConverter
    >>> from mdctcompand.testing import make_signal
    >>> codes = AudioImageConverter().codes_from_audio(make_signal("mixture", 48000)).codes
    >>> fig = plot_codes(codes, sample_rate=24000, hop_length=512, title="mixture")
    >>> fig.axes[0].get_title()
    'mixture'
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    n_frames = codes.shape[1]
    extent = (0, n_frames * hop_length / sample_rate, 0, sample_rate / 2 / 1000)
    im = ax.imshow(
        codes, cmap="magma", aspect="auto", extent=extent, vmin=0, vmax=255, interpolation="nearest"
    )
    ax.set(xlabel="time (s)", ylabel="frequency (kHz)", title=title)
    ax.figure.colorbar(im, ax=ax, label="code")
    return ax.figure


def plot_band_fits(coefficients: np.ndarray, profile: Any, bands: list[int], *, bins: int = 120):
    """Histograms of a few bands' coefficients against the profile's GGD densities (log y).

    Examples
    --------
    >>> from mdctcompand import MDCT, default_profile
    >>> from mdctcompand.testing import make_signal
    >>> X = MDCT(1024).forward(make_signal("mixture", 96000))
    >>> fig = plot_band_fits(X, default_profile(), [5, 50, 200])
    >>> len(fig.axes)
    3
    """
    from . import ggd

    plt = _pyplot()
    fig, axes = plt.subplots(1, len(bands), figsize=(3.2 * len(bands), 3), layout="constrained")
    axes = np.atleast_1d(axes)
    f = profile.band_frequencies()
    for ax, k in zip(axes, bands):
        x = np.asarray(coefficients[k], dtype=np.float64).ravel()
        lim = np.quantile(np.abs(x), 0.999)
        ax.hist(x, bins=bins, range=(-lim, lim), density=True, alpha=0.6, label="data")
        grid = np.linspace(-lim, lim, 400)
        ax.plot(grid, ggd.pdf(grid, profile.shape[k], profile.scale[k]), "k", lw=1.2, label="GGD fit")
        ax.set_yscale("log")
        ax.set(title=f"band {k} ({f[k]:.0f} Hz), g={profile.shape[k]:.2f}", xlabel="coefficient")
    axes[0].legend()
    return fig
