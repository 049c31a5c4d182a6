"""The tensor transform side by side: ``python -m lab.torch [--device cuda]``.

Prints, from one process (interleaved runs, medians and median ratios):

- CPU (default), one thread for everyone (``torch.set_num_threads(1)``, Numba 1 thread, the
  numpy core with ``workers=1``): forward + inverse of 60 s at 24 kHz, frame 1024, float32 --
  :class:`mdctcompand.torch.MDCT` against the numpy core and against a plain
  ``torch.stft`` + ``torch.istft`` of the same frame, hop and length; then the full 8-bit round
  trip (:class:`mdctcompand.torch.AudioImageConverter` against the numpy converter).
- ``--device cuda`` (or ``mps``): the GPU case of issue 13 -- a batch of 64 x 10 s stereo at
  44.1 kHz through the full 8-bit round trip (level, MDCT, compander, codes, decode, inverse)
  with a 44.1 kHz profile (frame 2048, 1024 bands), against ``torch.stft`` + ``torch.istft``
  of the same size; also the MDCT round trip alone. Device work is synchronized before every
  clock reading.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import mdctcompand
from mdctcompand import torch as mt

from .timing import compare, format_table, steady_state_kernels
from .transform import music


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _stft_round_trip(x: torch.Tensor, frame_length: int, window: torch.Tensor) -> torch.Tensor:
    """``torch.stft`` + ``torch.istft`` with the MDCT's frame, hop and window (the peer)."""
    hop = frame_length // 2
    flat = x.reshape(-1, x.shape[-1])
    spectrum = torch.stft(flat, frame_length, hop, window=window, return_complex=True)
    return torch.istft(spectrum, frame_length, hop, window=window, length=x.shape[-1]).reshape(x.shape)


def thread_times(candidates: dict, *, baseline: str, repeat: int) -> dict[str, tuple[float, float]]:
    """Median thread CPU time of each callable and its median ratio to ``baseline`` (interleaved).

    On a shared machine, wall time also counts the time other processes hold the core; the
    CPU time of the calling thread does not (single-threaded work only).
    """
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeat):
        for name, fn in candidates.items():
            t0 = time.thread_time()
            fn()
            times[name].append(time.thread_time() - t0)
    base = np.asarray(times[baseline])
    return {name: (float(np.median(t)), float(np.median(np.asarray(t) / base))) for name, t in times.items()}


def cpu(seconds: float, repeat: int) -> str:
    with steady_state_kernels():  # the numpy core's Numba build, whatever a fresh process would pick
        return _cpu(seconds, repeat)


def _cpu(seconds: float, repeat: int) -> str:
    torch.set_num_threads(1)
    try:
        import numba

        numba.set_num_threads(1)
    except (ImportError, ValueError):
        pass
    audio, source = music(seconds)
    x = torch.from_numpy(audio)
    n = audio.size
    core = mdctcompand.MDCT(1024, workers=1)
    tensor = mt.MDCT(1024)
    window = torch.from_numpy(mdctcompand.sine_window(1024).astype(np.float32))
    candidates = {
        "numpy core (Numba + scipy DCT-IV)": lambda: core.inverse(core.forward(audio), length=n),
        "mdctcompand.torch": lambda: tensor.inverse(tensor(x), length=n),
        "torch.stft + torch.istft": lambda: _stft_round_trip(x, 1024, window),
    }
    rows = compare(candidates, baseline="numpy core (Numba + scipy DCT-IV)", repeat=repeat)
    ours = next(r for r in rows if r.name == "mdctcompand.torch")
    stft = next(r for r in rows if r.name.startswith("torch.stft"))
    cpu_times = thread_times(candidates, baseline="numpy core (Numba + scipy DCT-IV)", repeat=repeat)
    cpu_table = "\n".join(
        ["| implementation | thread CPU time (ms) | ratio to numpy core |", "|---|---:|---:|"]
        + [f"| {name} | {t * 1e3:.2f} | {r:.2f} |" for name, (t, r) in cpu_times.items()]
    )
    numpy_conv = mdctcompand.AudioImageConverter(workers=1)
    conv = mt.AudioImageConverter.from_numpy(numpy_conv)
    eight_bit = compare(
        {
            "numpy AudioImageConverter": lambda: numpy_conv.audio_from_codes(
                numpy_conv.codes_from_audio(audio)
            ),
            "mdctcompand.torch AudioImageConverter": lambda: conv.audio_from_codes(conv.codes_from_audio(x)),
        },
        baseline="numpy AudioImageConverter",
        repeat=max(3, repeat // 4),
    )
    # model outputs: real values in code units through the continuous inverse compander
    enc = numpy_conv.codes_from_audio(audio)
    values = enc.codes.astype(np.float32) + np.float32(0.25)
    tensor_values = torch.from_numpy(values)
    continuous = compare(
        {
            "numpy AudioImageConverter": lambda: numpy_conv.audio_from_codes(values, length=n, gain=enc.gain),
            "mdctcompand.torch AudioImageConverter": lambda: conv.audio_from_codes(
                tensor_values, length=n, gain=float(enc.gain)
            ),
        },
        baseline="numpy AudioImageConverter",
        repeat=max(3, repeat // 4),
    )
    return (
        f"### CPU, one thread: forward + inverse, {seconds:g} s at 24 kHz, frame 1024, float32\n"
        f"audio: {source}; torch {torch.__version__}\n\n"
        + format_table(rows, baseline="numpy core")
        + f"\n\nmdctcompand.torch / numpy core = {ours.ratio:.2f} wall, "
        f"{cpu_times['mdctcompand.torch'][1]:.2f} thread CPU time (target <= 2); "
        f"mdctcompand.torch / torch.stft+istft = {ours.median_s / stft.median_s:.2f}\n\n" + cpu_table + "\n\n"
        f"### CPU, one thread: full 8-bit round trip (level, MDCT, compander, decode, inverse), {seconds:g} s\n\n"
        + format_table(eight_bit, baseline="numpy")
        + f"\n\n### CPU, one thread: continuous decode (real-valued codes, as a model outputs), {seconds:g} s\n\n"
        + format_table(continuous, baseline="numpy")
    )


def accelerator(
    device: torch.device, repeat: int, batch: int, seconds: float, *, compile_: bool = True
) -> str:
    profile = mdctcompand.load_profile("44k")
    note = f"shipped profile {profile.name!r}"
    conv = mt.AudioImageConverter(profile).to(device)
    gen = torch.Generator(device="cpu").manual_seed(0)
    n = int(seconds * 44100)
    x = (0.1 * torch.randn(batch, 2, n, generator=gen)).to(device)
    window = torch.from_numpy(mdctcompand.sine_window(2048).astype(np.float32)).to(device)

    def timed(fn):
        def run():
            out = fn()
            _sync(device)
            return out

        return run

    def eight_bit(audio: torch.Tensor) -> torch.Tensor:
        return conv.audio_from_codes(conv.codes_from_audio(audio))

    candidates = {
        "torch.stft + torch.istft": timed(lambda: _stft_round_trip(x, 2048, window)),
        "mdctcompand.torch 8-bit round trip": timed(lambda: eight_bit(x)),
        "mdctcompand.torch MDCT + inverse": timed(lambda: conv.mdct.inverse(conv.mdct(x), length=n)),
    }
    if compile_:
        compiled = torch.compile(eight_bit, fullgraph=True)
        t0 = time.perf_counter()
        compiled(x)
        _sync(device)
        note += (
            f"; torch.compile of the 8-bit round trip took {time.perf_counter() - t0:.1f} s (not timed below)"
        )
        candidates["mdctcompand.torch 8-bit round trip, torch.compile"] = timed(lambda: compiled(x))
    rows = compare(candidates, baseline="torch.stft + torch.istft", repeat=repeat)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else str(device)
    ours = next(r for r in rows if r.name.endswith("8-bit round trip"))
    best = min((r for r in rows if "8-bit" in r.name), key=lambda r: r.ratio)
    return (
        f"### {name}: {batch} x {seconds:g} s stereo at 44.1 kHz, float32, frame 2048 ({profile.n_bands} bands)\n"
        f"profile: {note}; torch {torch.__version__}\n\n"
        + format_table(rows, baseline="torch.stft+istft")
        + f"\n\n8-bit round trip / (torch.stft + torch.istft) = {ours.ratio:.2f} eager, "
        f"{best.ratio:.2f} best ({best.name}) (goal <= 1.5)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or mps")
    parser.add_argument(
        "--seconds", type=float, default=None, help="audio length (CPU: 60; GPU: 10 per clip)"
    )
    parser.add_argument("--batch", type=int, default=64, help="GPU batch of stereo clips (default 64)")
    parser.add_argument("--repeat", type=int, default=30, help="interleaved rounds per comparison")
    parser.add_argument(
        "--no-compile", action="store_true", help="accelerator: skip the torch.compile row (compiles once)"
    )
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cpu":
        print(cpu(args.seconds or 60.0, args.repeat))
        return
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available")
    if device.type == "mps" and not torch.backends.mps.is_available():
        parser.error("--device mps: no MPS device is available")
    print(accelerator(device, args.repeat, args.batch, args.seconds or 10.0, compile_=not args.no_compile))


if __name__ == "__main__":
    main()
