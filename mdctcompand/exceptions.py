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
]


class MdctCompandError(Exception):
    """Base class of every exception raised by mdctcompand."""


class ParameterError(MdctCompandError, ValueError):
    """An argument has a bad value, dtype or shape; the message names the value."""


class ProfileMismatchError(ParameterError):
    """A GGD profile is used with a transform geometry it was not fitted for."""


class FormatError(MdctCompandError, ValueError):
    """A file or byte string is not a valid mdctcompand image (foreign, corrupt or truncated)."""


class UnsupportedVersionError(FormatError):
    """An encoded file was written by a newer format version than this library reads."""


class AudioReadError(MdctCompandError, OSError):
    """An audio file could not be read or decoded."""
