"""Channel layouts: how the channels of a source become the stored channels of an image, and back.

A :class:`ChannelLayout` has a *mode* (what is stored) and an *arrangement* (where it goes
in the image):

=============  =============================================================
mode           stored channels
=============  =============================================================
"mid-side"     ``M = (L + R) / 2`` and ``S = (L - R) / 2`` (stereo sources)
"left-right"   ``L`` and ``R`` unchanged (stereo sources)
"mono"         the mean of all channels (any count); decoding repeats it
=============  =============================================================

A mono source is stored as is whatever the mode. Arrangements: ``"rows"`` stacks the
stored channels vertically (channel 0 on top; each one bands x frames with low
frequencies at its bottom), a grayscale image any codec stores; ``"planes"`` makes them
the planes of one image (``(bands, frames, channels)``; 2 channels give a PIL ``"LA"`` image).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .exceptions import ParameterError

__all__ = ["Arrangement", "ChannelLayout", "ChannelMode"]

ChannelMode = Literal["mid-side", "left-right", "mono"]
Arrangement = Literal["rows", "planes"]
_MODES = ("mid-side", "left-right", "mono")
_ARRANGEMENTS = ("rows", "planes")
#: More channels than this is surely an (n, channels) array passed the wrong way round.
MAX_CHANNELS_HINT = 64


@dataclass(frozen=True)
class ChannelLayout:
    """How source channels are stored (see the module docstring).

    Examples
    --------
    >>> layout = ChannelLayout("mid-side")
    >>> x = np.array([[1.0, 0.5], [0.0, 0.5]])  # left, right
    >>> layout.forward(x)
    array([[0.5, 0.5],
           [0.5, 0. ]])
    >>> layout.inverse(layout.forward(x), 2)
    array([[1. , 0.5],
           [0. , 0.5]])
    >>> layout.header_mode(1), ChannelLayout("mono").header_mode(6)
    ('none', 'mono')
    """

    mode: ChannelMode = "mid-side"
    arrangement: Arrangement = "rows"

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise ParameterError(f"channel mode {self.mode!r} must be one of {_MODES}")
        if self.arrangement not in _ARRANGEMENTS:
            raise ParameterError(f"arrangement={self.arrangement!r} must be one of {_ARRANGEMENTS}")

    @classmethod
    def parse(cls, spec: ChannelLayout | str | None) -> ChannelLayout:
        """From a layout, a mode name, or ``None`` (the default, mid-side rows).

        Examples
        --------
        >>> ChannelLayout.parse("mono")
        ChannelLayout(mode='mono', arrangement='rows')
        """
        if isinstance(spec, ChannelLayout):
            return spec
        if spec is None:
            return cls()
        if not isinstance(spec, str):
            raise ParameterError(f"channels={spec!r} must be a ChannelLayout or one of {_MODES}")
        return cls(spec)  # type: ignore[arg-type]

    @classmethod
    def from_header_mode(cls, mode: str, arrangement: str = "rows") -> ChannelLayout:
        """The layout that wrote a file whose header says ``stereo=mode`` (``"none"``: a mono source).

        Examples
        --------
        >>> ChannelLayout.from_header_mode("none").mode
        'mono'
        """
        return cls("mono" if mode == "none" else mode, arrangement)  # type: ignore[arg-type]

    def stored_channels(self, n_channels: int) -> int:
        """Stored channels for a source of ``n_channels``; raises if the mode cannot store them.

        Examples
        --------
        >>> ChannelLayout().stored_channels(2), ChannelLayout().stored_channels(1)
        (2, 1)
        """
        if n_channels < 1:
            raise ParameterError(f"{n_channels} channels: at least one is needed")
        if n_channels == 1 or self.mode == "mono":
            return 1
        if n_channels != 2:
            hint = (
                " (channels go first: an (n, channels) array, as soundfile reads it, is passed as audio.T)"
                if n_channels > MAX_CHANNELS_HINT else ""
            )
            raise ParameterError(
                f"{n_channels} channels: {self.mode} stores stereo only; stereo='mono' downmixes any number "
                f"(channels='mono' in AudioImageConverter){hint}"
            )
        return 2

    def header_mode(self, n_channels: int) -> str:
        """What the header records for a source of ``n_channels``: the mode, or ``"none"`` for mono.

        Examples
        --------
        >>> ChannelLayout("left-right").header_mode(2)
        'left-right'
        """
        return "none" if n_channels == 1 else self.mode

    def forward(self, audio: np.ndarray) -> np.ndarray:
        """``(channels, n)`` source -> ``(stored, n)`` stored channels.

        Examples
        --------
        >>> ChannelLayout("mono").forward(np.ones((3, 4))).shape
        (1, 4)
        """
        n_channels = audio.shape[0]
        stored = self.stored_channels(n_channels)
        if n_channels == 1:
            return audio
        if stored == 1:
            return audio.mean(axis=0, keepdims=True, dtype=np.float64).astype(audio.dtype, copy=False)
        if self.mode == "mid-side":
            left, right = audio
            half = audio.dtype.type(0.5)
            return np.stack([(left + right) * half, (left - right) * half])
        return audio

    def inverse(self, stored: np.ndarray, n_channels: int) -> np.ndarray:
        """``(stored, n)`` -> ``(n_channels, n)``, the inverse of :meth:`forward` (a downmix is repeated).

        Examples
        --------
        >>> ChannelLayout("mono").inverse(np.ones((1, 4)), 3).shape
        (3, 4)
        """
        if stored.shape[0] == 1:
            return np.repeat(stored, n_channels, axis=0) if n_channels > 1 else stored
        if self.mode == "mid-side":
            mid, side = stored
            return np.stack([mid + side, mid - side])
        return stored

    @property
    def image_planes(self) -> int:
        """Planes of the image a model sees: 3 for left-right planes (left, right and :meth:`mid`,
        an RGB image; decoding reads left and right), else 1.

        Examples
        --------
        >>> ChannelLayout("left-right", arrangement="planes").image_planes, ChannelLayout("mono").image_planes
        (3, 1)
        """
        return 3 if self.mode == "left-right" and self.arrangement == "planes" else 1

    @staticmethod
    def mid(stored: Any) -> Any:
        """The mid ``(L + R) / 2`` of left-right audio ``(..., 2, n)`` as ``(..., 1, n)``: the third plane
        of a model's RGB image (numpy arrays or torch tensors).

        Examples
        --------
        >>> ChannelLayout.mid(np.array([[1.0, 0.0], [0.0, 0.5]])).tolist()
        [[0.5, 0.25]]
        """
        return (stored[..., :1, :] + stored[..., 1:2, :]) / 2

    def arrange(self, codes: np.ndarray) -> np.ndarray:
        """Image of ``(stored, bands, frames)`` codes: stacked rows ``(stored * bands, frames)`` or planes.

        Examples
        --------
        >>> codes = np.zeros((2, 4, 5), np.uint8)
        >>> ChannelLayout().arrange(codes).shape, ChannelLayout(arrangement="planes").arrange(codes).shape
        ((8, 5), (4, 5, 2))
        """
        if codes.shape[0] == 1:
            return codes[0]
        if self.arrangement == "rows":
            return codes.reshape(-1, codes.shape[-1])
        return np.moveaxis(codes, 0, -1)

    def split(self, image: np.ndarray, stored: int) -> np.ndarray:
        """Inverse of :meth:`arrange`: an image -> ``(stored, bands, frames)``.

        Examples
        --------
        >>> layout = ChannelLayout()
        >>> codes = np.arange(40, dtype=np.uint8).reshape(2, 4, 5)
        >>> np.array_equal(layout.split(layout.arrange(codes), 2), codes)
        True
        """
        if stored == 1:
            return (
                image.reshape((1,) + image.shape[-2:]) if image.ndim == 2 else np.moveaxis(image, -1, 0)[:1]
            )
        if self.arrangement == "rows":
            if image.ndim != 2 or image.shape[0] % stored:
                raise ParameterError(
                    f"an image of shape {image.shape} does not hold {stored} channels as rows"
                )
            return image.reshape(stored, image.shape[0] // stored, image.shape[1])
        if image.ndim != 3 or image.shape[-1] < stored:
            raise ParameterError(f"an image of shape {image.shape} does not hold {stored} channels as planes")
        return np.moveaxis(image[..., :stored], -1, 0)
