"""Command-line tools: ``mdctcompand`` (umbrella), ``wav2jpeg`` and ``jpeg2wav``."""
