# The public names of ``mdctcompand``, listed once: type checkers read this stub, and
# ``__init__.py`` serves the same names lazily from it (lazy_loader.attach_stub).
from . import (
    band_gains as band_gains,
    channels as channels,
    codec as codec,
    compand as compand,
    containers as containers,
    converter as converter,
    dataset as dataset,
    exceptions as exceptions,
    fitting as fitting,
    ggd as ggd,
    header as header,
    io as io,
    metrics as metrics,
    parallel as parallel,
    plotting as plotting,
    profile as profile,
    reference as reference,
    stats as stats,
    testing as testing,
    transform as transform,
    windows as windows,
)
from ._version import (
    __version__ as __version__,
)
from .band_gains import (
    BandGains as BandGains,
)
from .channels import (
    ChannelLayout as ChannelLayout,
)
from .compand import (
    DEFAULT_ROUNDING as DEFAULT_ROUNDING,
    DEFAULT_TILT as DEFAULT_TILT,
    Compander as Compander,
)
from .converter import (
    AudioImageConverter as AudioImageConverter,
    CodeImage as CodeImage,
)
from .exceptions import (
    AudioReadError as AudioReadError,
    FormatError as FormatError,
    MdctCompandError as MdctCompandError,
    ParameterError as ParameterError,
    ProfileMismatchError as ProfileMismatchError,
    UnsupportedVersionError as UnsupportedVersionError,
)
from .header import (
    AudioImageHeader as AudioImageHeader,
)
from .profile import (
    GGDProfile as GGDProfile,
    LevelSpec as LevelSpec,
    default_profile as default_profile,
    load_profile as load_profile,
    profile_for_rate as profile_for_rate,
    shipped_profiles as shipped_profiles,
)
from .stats import (
    BandStatistics as BandStatistics,
)
from .transform import (
    MDCT as MDCT,
    imdct as imdct,
    mdct as mdct,
)
from .windows import (
    check_princen_bradley as check_princen_bradley,
    get_window as get_window,
    kbd_window as kbd_window,
    sine_window as sine_window,
    vorbis_window as vorbis_window,
)
