"""Peer implementations the benchmarks compare against.

- :func:`numpy_mdct` / :func:`numpy_imdct`: the best plain-numpy MDCT we could write
  (frames by striding, quarter-wise fold with slices, ``scipy.fft.dct(type=4)``), the
  reference point "what you get without Numba".
- :func:`dct_floor`: the two DCT-IV calls every FFT-based MDCT round trip must pay.
- :func:`mp3_roundtrip`, :func:`opus_roundtrip`, :func:`aac_roundtrip`: the audio codecs
  wav2jpeg is compared with (LAME through lameenc; libopus and ffmpeg's native AAC encoder
  through the ``ffmpeg`` command), each asked for a bit rate, decoded back to the input's
  rate and aligned, with the size of the encoded stream.
"""

from __future__ import annotations

import numpy as np
from scipy import fft


def dct_floor(frames: np.ndarray) -> np.ndarray:
    """Forward + inverse orthonormal DCT-IV of ``frames (..., M)``: the lower bound of an MDCT round trip."""
    return fft.dct(fft.dct(frames, type=4, norm="ortho", axis=-1), type=4, norm="ortho", axis=-1)


def numpy_mdct(x: np.ndarray, window: np.ndarray) -> np.ndarray:
    """MDCT ``(..., n_frames, M)`` of ``x`` in plain numpy (even hop), same conventions as mdctcompand."""
    m = window.size // 2
    h = m // 2
    n = x.shape[-1]
    n_frames = -(-n // m) + 1
    padded = np.zeros(x.shape[:-1] + ((n_frames + 1) * m,), dtype=x.dtype)
    padded[..., m : m + n] = x
    frames = np.lib.stride_tricks.sliding_window_view(padded, 2 * m, axis=-1)[..., ::m, :] * window.astype(
        x.dtype
    )
    a, b, c, d = frames[..., :h], frames[..., h:m], frames[..., m : m + h], frames[..., m + h :]
    folded = np.concatenate([-c[..., ::-1] - d, a - b[..., ::-1]], axis=-1)
    return fft.dct(folded, type=4, norm="ortho", axis=-1)


def numpy_imdct(frames: np.ndarray, window: np.ndarray, length: int) -> np.ndarray:
    """Inverse of :func:`numpy_mdct`, trimmed to ``length`` samples."""
    m = window.size // 2
    h = m // 2
    n_frames = frames.shape[-2]
    g = fft.dct(frames, type=4, norm="ortho", axis=-1)
    u1, u2 = g[..., :h], g[..., h:]
    z = np.concatenate([u2, -u2[..., ::-1], -u1[..., ::-1], -u1], axis=-1) * window.astype(frames.dtype)
    out = np.zeros(frames.shape[:-2] + ((n_frames + 1) * m,), dtype=frames.dtype)
    lead = frames.shape[:-2]
    out[..., : n_frames * m] += z[..., :m].reshape(lead + (n_frames * m,))
    out[..., m:] += z[..., m:].reshape(lead + (n_frames * m,))
    return out[..., m : m + length]


def align(reference: np.ndarray, estimate: np.ndarray, *, max_lag: int = 4000) -> np.ndarray:
    """Shift ``estimate`` by the lag that maximizes its cross-correlation with ``reference``; same length.

    Codecs like MP3 delay their output (encoder delay plus padding); metrics need it undone.
    """
    from scipy.signal import correlate

    n = min(reference.size, estimate.size, 1 << 17)
    c = correlate(estimate[:n], reference[:n], mode="full", method="fft")
    centre = n - 1
    window = c[max(0, centre - max_lag) : centre + max_lag + 1]
    lag = int(np.argmax(window)) - min(centre, max_lag)
    out = np.zeros_like(reference)
    src = estimate[max(lag, 0) :]
    dst_start = max(-lag, 0)
    m = min(src.size, reference.size - dst_start)
    out[dst_start : dst_start + m] = src[:m]
    return out


def mp3_roundtrip(
    x: np.ndarray, sample_rate: int, *, bitrate_kbps: int = 24, quality: int = 2
) -> tuple[np.ndarray, int]:
    """Encode ``x`` (``(n,)`` or ``(2, n)``) with LAME (lameenc, CBR) and decode it back (libsndfile).

    LAME picks its own output rate (16 kHz at 24 kbit/s mono, with a low-pass near 6-8 kHz);
    the result is resampled to ``sample_rate`` and aligned to ``x``. Returns the decoded
    audio (same shape as ``x``) and the size of the MP3 stream in bytes.
    """
    import io

    import lameenc
    import soundfile as sf

    from mdctcompand.io import resample

    channels = 1 if x.ndim == 1 else x.shape[0]
    enc = lameenc.Encoder()
    enc.set_bit_rate(int(bitrate_kbps))
    enc.set_in_sample_rate(int(sample_rate))
    enc.set_channels(channels)
    enc.set_quality(int(quality))
    pcm = (np.clip(x.T if x.ndim == 2 else x, -1, 1) * 32767).astype(np.int16)
    data = bytes(enc.encode(np.ascontiguousarray(pcm).tobytes()) + enc.flush())
    y, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    y = resample(np.ascontiguousarray(y.T), sr, sample_rate)
    return _align_channels(x, y), len(data)


def _align_channels(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``y (channels, m)`` aligned to ``x`` (``(n,)`` or ``(channels, n)``) with the lag of the channel mean."""
    ref = x.astype(np.float32) if x.ndim == 1 else x.astype(np.float32).mean(axis=0)
    from scipy.signal import correlate

    n = min(ref.size, y.shape[-1], 1 << 17)
    c = correlate(y.mean(axis=0)[:n], ref[:n], mode="full", method="fft")
    centre, max_lag = n - 1, 4000
    window = c[max(0, centre - max_lag) : centre + max_lag + 1]
    lag = int(np.argmax(window)) - min(centre, max_lag)
    out = np.zeros((y.shape[0], ref.size), dtype=np.float32)
    src = y[:, max(lag, 0) :]
    dst = max(-lag, 0)
    m = min(src.shape[1], ref.size - dst)
    out[:, dst : dst + m] = src[:, :m]
    return out[0] if x.ndim == 1 else out


def ffmpeg_roundtrip(
    x: np.ndarray, sample_rate: int, *, codec_args: list[str], extension: str
) -> tuple[np.ndarray, int]:
    """Encode ``x`` (``(n,)`` or ``(channels, n)``) with the ``ffmpeg`` command and decode it back.

    ``codec_args`` are ffmpeg's output options (e.g. ``["-c:a", "libopus", "-b:a", "24k"]``);
    ``extension`` picks the container (``".opus"``, ``".m4a"``, ...). The decoded audio is
    resampled to ``sample_rate`` by ffmpeg (soxr) and aligned to ``x``. Returns it (same shape
    as ``x``) and the size of the encoded file in bytes (container overhead included).
    """
    import subprocess
    import tempfile
    from pathlib import Path

    import soundfile as sf

    with tempfile.TemporaryDirectory() as tmp:
        src, enc, out = Path(tmp) / "in.wav", Path(tmp) / f"enc{extension}", Path(tmp) / "out.wav"
        sf.write(src, np.ascontiguousarray(x.T if x.ndim == 2 else x), sample_rate, subtype="FLOAT")
        quiet = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-threads", "1"]
        subprocess.run([*quiet, "-i", str(src), *codec_args, str(enc)], check=True)
        subprocess.run(
            [*quiet, "-i", str(enc), "-af", "aresample=resampler=soxr", "-ar", str(sample_rate),
             "-c:a", "pcm_f32le", str(out)],
            check=True,
        )  # fmt: skip
        y, _ = sf.read(out, dtype="float32", always_2d=True)
        size = enc.stat().st_size
    return _align_channels(x, np.ascontiguousarray(y.T)), size


def opus_roundtrip(x: np.ndarray, sample_rate: int, *, bitrate_kbps: float = 24) -> tuple[np.ndarray, int]:
    """Opus (libopus through ffmpeg, VBR, complexity 10, music tuning) at ``bitrate_kbps``; see :func:`ffmpeg_roundtrip`."""
    args = ["-c:a", "libopus", "-b:a", f"{bitrate_kbps:g}k", "-application", "audio", "-compression_level", "10"]
    return ffmpeg_roundtrip(x, sample_rate, codec_args=args, extension=".opus")


def aac_roundtrip(x: np.ndarray, sample_rate: int, *, bitrate_kbps: float = 24) -> tuple[np.ndarray, int]:
    """AAC-LC (ffmpeg's native encoder, ADTS stream) at ``bitrate_kbps``; see :func:`ffmpeg_roundtrip`."""
    args = ["-c:a", "aac", "-b:a", f"{bitrate_kbps:g}k"]
    return ffmpeg_roundtrip(x, sample_rate, codec_args=args, extension=".aac")
