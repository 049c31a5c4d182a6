# The public names of ``mdctcompand.codec``, listed once (see __init__.py).
from .core import (
    CODEC_FORMAT as CODEC_FORMAT,
    CODEC_VERSION as CODEC_VERSION,
    DEFAULT_MAX_PIXELS as DEFAULT_MAX_PIXELS,
    DEFAULT_MAX_SAMPLES as DEFAULT_MAX_SAMPLES,
    CodecInfo as CodecInfo,
    DecodedAudio as DecodedAudio,
    Progress as Progress,
    decode as decode,
    decode_stream as decode_stream,
    encode as encode,
    encode_stream as encode_stream,
    read_info as read_info,
)
from .files import (
    DecodedFile as DecodedFile,
    decode_file as decode_file,
    encode_file as encode_file,
)
from .settings import (
    CODEC_ROUNDING as CODEC_ROUNDING,
    Decoder as Decoder,
    EncodeSettings as EncodeSettings,
    QTable as QTable,
    StereoMode as StereoMode,
    auto_tilt as auto_tilt,
    codec_profile_for_rate as codec_profile_for_rate,
)
