# The public names of ``mdctcompand.codec``, listed once (see __init__.py).
from .core import (
    CODEC_FORMAT,
    CODEC_VERSION,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MAX_SAMPLES,
    CodecInfo,
    DecodedAudio,
    Progress,
    decode,
    decode_stream,
    encode,
    encode_stream,
    read_info,
)
from .files import DecodedFile, decode_file, encode_file
from .settings import (
    CODEC_ROUNDING,
    Decoder,
    EncodeSettings,
    ImageFormat,
    QTable,
    StereoMode,
    auto_tilt,
    codec_profile_for_rate,
)
