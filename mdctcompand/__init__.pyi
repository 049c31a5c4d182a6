# The public names of ``mdctcompand``, listed once: type checkers read this stub, and
# ``__init__.py`` serves the same names lazily from it (lazy_loader.attach_stub).
from . import (
    band_gains,
    channels,
    codec,
    compand,
    containers,
    converter,
    dataset,
    exceptions,
    fitting,
    ggd,
    header,
    io,
    metrics,
    parallel,
    plotting,
    profile,
    reference,
    stats,
    testing,
    transform,
    windows,
)
from ._version import __version__
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
from .profile import GGDProfile, LevelSpec, default_profile, load_profile, profile_for_rate, shipped_profiles
from .stats import BandStatistics
from .transform import MDCT, imdct, mdct
from .windows import check_princen_bradley, get_window, kbd_window, sine_window, vorbis_window
