"""Headers that ask for more than an encoder ever writes: far rates, absurd gains."""

import json

import numpy as np
import pytest

from mdctcompand import FormatError, codec
from mdctcompand.containers import decode_tile, encode_tile, open_image_file
from mdctcompand.testing import make_signal


def _png_with(changes):
    x = (0.3 * make_signal("mixture", 8000, 8000)).astype(np.float32)
    data = codec.encode(x, 8000, format="png")
    with open_image_file(data) as f:
        meta = f.metadata
    return encode_tile(decode_tile(data), "png", metadata=json.dumps({**meta, **changes}))


def test_a_declared_rate_far_from_the_transform_is_refused():
    """A 1 Hz source took 11 s per decode to set up the resampler."""
    with pytest.raises(FormatError, match="within 32x of sample_rate"):
        codec.read_info(_png_with({"source_sample_rate": 1, "source_length": 1}))


def test_absurd_gains_stop_the_decode():
    """Gains at the bottom of their range once decoded to peaks of 4.9e28."""
    data = _png_with({"gains": [[1e-6]]})
    with pytest.raises(FormatError, match=r"decodes to a peak of .* a corrupt or hostile file"):
        codec.decode(data)
