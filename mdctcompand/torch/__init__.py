"""Tensor API (placeholder during development)."""
from .compand import Compander
from .transform import MDCT, imdct, mdct
