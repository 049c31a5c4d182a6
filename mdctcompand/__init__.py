"""mdctcompand: audio as an invertible, image-like 8-bit representation.

The transform is an MDCT followed by per-band generalized-Gaussian (GGD) companding and
uniform 8-bit quantization; on top of it sit the ``wav2jpeg`` codec, a captioned image
dataset builder and an optional diffusion extra (``mdctcompand.diffusion``).

``import mdctcompand`` stays light: numpy at import time, scipy and the Numba kernels at
first use, never torch.
"""

from . import codec, metrics
from ._version import __version__
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
from .profile import GGDProfile, LevelSpec, default_profile, load_profile, profile_for_rate, shipped_profiles
from .stats import BandStatistics
from .transform import MDCT, imdct, mdct
from .windows import check_princen_bradley, get_window, kbd_window, sine_window, vorbis_window

__all__ = [
    "DEFAULT_ROUNDING",
    "DEFAULT_TILT",
    "MDCT",
    "AudioImageConverter",
    "AudioImageHeader",
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
