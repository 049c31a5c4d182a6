"""mdctcompand: audio as an invertible, image-like 8-bit representation.

The transform is an MDCT followed by per-band generalized-Gaussian (GGD) companding and
uniform 8-bit quantization; on top of it sit the ``wav2jpeg`` codec, a captioned image
dataset builder and an optional diffusion extra (``mdctcompand.diffusion``).

``import mdctcompand`` is nearly free: every public name and submodule (``mdctcompand.io``,
``mdctcompand.codec``, ...) is imported on first use (PEP 562), so a command imports only
what it needs. numpy and scipy load with the first function that uses them, the compiled
kernels only for large inputs (see ``mdctcompand._kernels``), torch never.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # what the lazy attributes below resolve to, for type checkers and IDEs
    from . import codec, io, metrics  # noqa: F401 (io: reachable, not in __all__)
    from .band_gains import BandGains
    from .channels import ChannelLayout
    from .compand import DEFAULT_ROUNDING, DEFAULT_TILT, Compander
    from .converter import AudioImageConverter, CodeImage
    from .exceptions import (
        AudioReadError,
        FormatError,
        MdctCompandError,
        ParameterError,
        ProfileMismatchError,
        UnsupportedVersionError,
    )
    from .header import AudioImageHeader
    from .profile import (
        GGDProfile,
        LevelSpec,
        default_profile,
        load_profile,
        profile_for_rate,
        shipped_profiles,
    )
    from .stats import BandStatistics
    from .transform import MDCT, imdct, mdct
    from .windows import check_princen_bradley, get_window, kbd_window, sine_window, vorbis_window

__all__ = [
    "DEFAULT_ROUNDING",
    "DEFAULT_TILT",
    "MDCT",
    "AudioImageConverter",
    "AudioImageHeader",
    "BandGains",
    "ChannelLayout",
    "BandStatistics",
    "CodeImage",
    "Compander",
    "GGDProfile",
    "LevelSpec",
    "default_profile",
    "load_profile",
    "profile_for_rate",
    "shipped_profiles",
    "AudioReadError",
    "FormatError",
    "MdctCompandError",
    "ParameterError",
    "ProfileMismatchError",
    "UnsupportedVersionError",
    "__version__",
    "codec",
    "metrics",
    "check_princen_bradley",
    "get_window",
    "imdct",
    "kbd_window",
    "mdct",
    "sine_window",
    "vorbis_window",
]

#: Public name -> the submodule that defines it.
_LAZY_NAMES = {
    "DEFAULT_ROUNDING": "compand",
    "DEFAULT_TILT": "compand",
    "Compander": "compand",
    "AudioImageConverter": "converter",
    "AudioImageHeader": "header",
    "BandGains": "band_gains",
    "ChannelLayout": "channels",
    "CodeImage": "converter",
    "AudioReadError": "exceptions",
    "FormatError": "exceptions",
    "MdctCompandError": "exceptions",
    "ParameterError": "exceptions",
    "ProfileMismatchError": "exceptions",
    "UnsupportedVersionError": "exceptions",
    "GGDProfile": "profile",
    "LevelSpec": "profile",
    "default_profile": "profile",
    "load_profile": "profile",
    "profile_for_rate": "profile",
    "shipped_profiles": "profile",
    "BandStatistics": "stats",
    "MDCT": "transform",
    "imdct": "transform",
    "mdct": "transform",
    "check_princen_bradley": "windows",
    "get_window": "windows",
    "kbd_window": "windows",
    "sine_window": "windows",
    "vorbis_window": "windows",
}
#: Submodules reachable as attributes after ``import mdctcompand`` (``diffusion``: import it explicitly).
_LAZY_SUBMODULES = frozenset(
    "band_gains channels codec compand containers converter dataset header exceptions fitting ggd io metrics parallel plotting "
    "profile reference stats testing transform windows".split()
)


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    module = _LAZY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _LAZY_SUBMODULES)
