"""Exception types raised by mdctcompand.

Every error the library raises on purpose derives from :class:`MdctCompandError`, so
``except mdctcompand.MdctCompandError`` catches all of them. Errors about bad
arguments are also :class:`ValueError` (or :class:`TypeError`), so code written
against numpy/scipy conventions keeps working.
"""

from __future__ import annotations

__all__ = [
    "MdctCompandError",
    "ParameterError",
    "ProfileMismatchError",
    "FormatError",
    "UnsupportedVersionError",
    "AudioReadError",
    "WorkerLostError",
]


class MdctCompandError(Exception):
    """Base class of every exception raised by mdctcompand.

    Examples
    --------
    >>> import numpy as np, mdctcompand
    >>> try:
    ...     mdctcompand.mdct(np.array([]))
    ... except mdctcompand.MdctCompandError as exc:
    ...     print(type(exc).__name__)
    ParameterError
    """


class ParameterError(MdctCompandError, ValueError):
    """An argument has a bad value, dtype or shape; the message names the value.

    Examples
    --------
    >>> import mdctcompand
    >>> try:
    ...     mdctcompand.MDCT(7)
    ... except ValueError as exc:  # also a ValueError
    ...     print(exc)
    frame_length=7 must be even (hop = frame_length / 2)
    """


class ProfileMismatchError(ParameterError):
    """A GGD profile is used with a transform geometry it was not fitted for.

    Examples
    --------
    >>> import mdctcompand
    >>> try:
    ...     mdctcompand.default_profile().check_geometry(sample_rate=44100, frame_length=1024)
    ... except mdctcompand.ProfileMismatchError:
    ...     print("wrong geometry")
    wrong geometry
    """


class FormatError(MdctCompandError, ValueError):
    """A file or byte string is not a valid mdctcompand image (foreign, corrupt or truncated).

    Examples
    --------
    >>> from mdctcompand import codec, FormatError
    >>> try:
    ...     codec.decode(b"not an image")
    ... except FormatError as exc:
    ...     print(exc)
    <bytes>: not an image file (no format Pillow reads)
    """


class UnsupportedVersionError(FormatError):
    """An encoded file was written by a newer format version than this library reads.

    Examples
    --------
    >>> from mdctcompand import FormatError, UnsupportedVersionError
    >>> issubclass(UnsupportedVersionError, FormatError)
    True
    """


class AudioReadError(MdctCompandError, OSError):
    """An audio file could not be read or decoded.

    Examples
    --------
    >>> from mdctcompand.io import load_audio
    >>> from mdctcompand import AudioReadError
    >>> try:
    ...     load_audio("/no/such/file.wav")
    ... except AudioReadError as exc:
    ...     print(exc)
    /no/such/file.wav: no such file
    """


class WorkerLostError(MdctCompandError, RuntimeError):
    """A worker process died (killed, or out of memory) while it worked on an item.

    Parallel runs (:func:`mdctcompand.parallel.imap_unordered`) retry the items a dead worker
    took with it, one at a time; an item whose worker dies again is reported with this error.

    Examples
    --------
    >>> str(WorkerLostError("its worker process died"))
    'its worker process died'
    """
