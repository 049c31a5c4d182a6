"""wav2jpeg: a lossy audio codec = companded MDCT codes stored in a standard image.

The codec is a client of the library's one audio <-> image path: the source's channels go
through a :class:`~mdctcompand.channels.ChannelLayout` (mid/side by default), are resampled
to the profile's rate (24 kHz by default, soxr), transformed by the streaming MDCT and
turned into codes by :class:`~mdctcompand.AudioImageConverter` (one level gain per tile),
and written as grayscale image tiles: bands x frames, low frequencies at the bottom, the
channels stacked vertically. Everything decoding needs travels in the file's
:class:`~mdctcompand.header.AudioImageHeader` (see :mod:`mdctcompand.containers` for where
each format keeps it). Decoding returns exactly the source's length, channels and rate.

Long inputs are cut into tiles of ``tile_frames`` frames (87 s at the defaults) and
processed as a stream: memory is bounded by one tile plus the compressed output.

Decoding can limit the damage that lossy image coding does near the code range's tails:
with ``decoder="mmse"`` each decoded pixel value ``p`` maps to ``E[x | p]``, the
coefficient's conditional mean given the code's prior (the fitted GGD) and the image
codec's error (its RMS, measured by the encoder per band group and stored in the header);
see :meth:`~mdctcompand.compand.Compander.posterior_mean_table`.

Format version 3 (the default since issue 15) adds the coding tools of
:mod:`~mdctcompand.codec.tools`: per-cell levels as side information in the header,
time-adaptive cell gains, band weights, noise filling at decode and the coded bandwidth by
rate; and rate control: the default is a bit rate (24 kbit/s mono, 48 stereo) met with
fractional JPEG steps (``quality=`` gives a fixed quality instead). Version 1 and 2 files
decode exactly as before.

Hostile files are refused with :class:`~mdctcompand.FormatError`: the header is validated
(types, ranges, consistency, JSON size and depth), every tile's size is checked against
it before its pixels are decoded, and the pixels of all tiles are bounded (``max_pixels``).

Modules: :mod:`~mdctcompand.codec.settings` (:class:`EncodeSettings`), :mod:`~mdctcompand.codec.cells`
(side information), :mod:`~mdctcompand.codec.jpeg` (JPEG tables, dead zone),
:mod:`~mdctcompand.codec.ratecontrol` (tile coding, rate search),
:mod:`~mdctcompand.codec.tools` (the version-3 coding tools and side information),
:mod:`~mdctcompand.codec.streaming` (tiles in a stream), :mod:`~mdctcompand.codec.core`
(in memory), :mod:`~mdctcompand.codec.files` (files and pipes).
"""

import lazy_loader

# The public names, listed once in __init__.pyi, load on first use: the command line's
# options read EncodeSettings without loading the encoder.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
