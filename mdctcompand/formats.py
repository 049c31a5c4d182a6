"""The registry of image formats: every list of formats in the library derives from :data:`FORMATS`.

A new format is one :class:`ImageFormatSpec` here plus its encoder and decoder in
:mod:`mdctcompand.containers`; the codec's settings, the header's check, the command line's
choices and extensions, and what a file opens as all read this registry. Standard library only,
so that the command line's ``--help`` stays fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .exceptions import ParameterError

__all__ = ["FORMATS", "JXL_HINT", "ImageFormatSpec", "available_formats", "format_from_path"]

JXL_HINT = "JPEG XL needs the pillow-jxl-plugin package: pip install pillow-jxl-plugin (or the 'jxl' extra)"


@dataclass(frozen=True)
class ImageFormatSpec:
    """One image format the library writes: the registry :data:`FORMATS` holds them all, and
    every other list of formats (the codec's settings, the command line's choices and
    extensions, what a file opens as) derives from it.

    Attributes
    ----------
    name : str
        The format's name in settings and headers (``"jpeg"``).
    pillow : str
        Pillow's name of what is written (JPEG XL files are JPEG files recompressed).
    extensions : tuple of str
        File extensions, the default first.
    lossless : bool
        Whether the codes come back exactly.
    multi_tile : bool
        Whether a file holds several tiles (long audio).
    max_side : int
        Largest image side the encoder takes.
    feature : str or None
        What must be present: a Pillow feature (``"webp"``) or ``"module:NAME"``, a plugin package
        (``None``: always available).
    """

    name: str
    pillow: str
    extensions: tuple[str, ...]
    lossless: bool
    multi_tile: bool
    max_side: int = 65535
    feature: str | None = None

    @property
    def available(self) -> bool:
        """Whether this installation can write the format."""
        if self.feature is None:
            return True
        if self.feature.startswith("module:"):  # a plugin package
            import importlib.util

            return importlib.util.find_spec(self.feature.removeprefix("module:")) is not None
        from PIL import features

        return bool(features.check(self.feature))

    @property
    def install_hint(self) -> str:
        """What to install where the format is not available."""
        if self.name == "jxl":
            return JXL_HINT
        return f"this Pillow build has no {self.name.upper()} support (AVIF needs Pillow >= 11.2 built with libavif)"


#: The registry of image formats, by name (AVIF: sides kept to 4096 for encoder memory and speed).
FORMATS: dict[str, ImageFormatSpec] = {
    spec.name: spec
    for spec in (
        ImageFormatSpec("jpeg", "JPEG", (".jpg", ".jpeg", ".mpo"), lossless=False, multi_tile=True),
        ImageFormatSpec("png", "PNG", (".png", ".apng"), lossless=True, multi_tile=True),
        ImageFormatSpec("webp", "WEBP", (".webp",), lossless=False, multi_tile=True, max_side=16383, feature="webp"),
        ImageFormatSpec("avif", "AVIF", (".avif",), lossless=False, multi_tile=False, max_side=4096, feature="avif"),
        ImageFormatSpec("jxl", "JPEG", (".jxl",), lossless=False, multi_tile=True, feature="module:pillow_jxl"),
    )
}
def available_formats() -> list[str]:
    """Formats this installation can write (AVIF needs Pillow >= 11.2 built with libavif, JPEG XL
    the pillow-jxl-plugin package).

    Examples
    --------
    >>> {"jpeg", "png"} <= set(available_formats())
    True
    """
    return [name for name, spec in FORMATS.items() if spec.available]


def format_from_path(path: str | os.PathLike[str]) -> str:
    """Format name from a file extension (``.jpg``, ``.png``, ``.webp``, ``.avif``).

    Examples
    --------
    >>> format_from_path("song.JPG"), format_from_path("x.webp")
    ('jpeg', 'webp')
    """
    ext = Path(path).suffix.lower()
    for spec in FORMATS.values():
        if ext in spec.extensions:
            return spec.name
    known = ", ".join(spec.extensions[0] for spec in FORMATS.values())
    raise ParameterError(f"{path}: unknown image extension {ext!r}; use {known}")
