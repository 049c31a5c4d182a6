"""Fuse a LoRA into its base model and export a standalone pipeline; model cards.

:func:`export_fused` writes what ``mdctcompand export`` writes: base model + adapter
merged into one :class:`~mdctcompand.diffusion.MDCTDiffusionPipeline` directory (weights,
converter, scheduler, loader shim, model card) that loads without the base model or the
adapter (``load_pipeline(path)``, ``MDCTDiffusionPipeline.from_pretrained(path)`` or
``DiffusionPipeline.from_pretrained(path, trust_remote_code=True)``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["export_fused", "write_model_card"]


def export_fused(
    model: str | Path,
    output_dir: str | Path,
    *,
    lora: str | Path | None = None,
    lora_scale: float = 1.0,
    converter: Any = None,
    dtype: Any = None,
) -> Path:
    """Load ``model`` (+ ``lora``), fuse the adapter at ``lora_scale`` and save a standalone pipeline.

    Parameters
    ----------
    model : path or hub id
        Base model (or a saved pipeline).
    output_dir : path
    lora : path, optional
        Adapter directory written by training (its converter and scheduler are used).
    lora_scale : float, default 1
    converter : MDCTImageConverter, optional
        When neither the model nor the adapter holds one.
    dtype : torch.dtype, optional
        Save in this precision (e.g. ``torch.float16``).

    Examples
    --------
    >>> import tempfile
    >>> from mdctcompand.diffusion.testing import tiny_workspace
    >>> ws = tiny_workspace()
    >>> out = export_fused(ws.model, tempfile.mkdtemp(), converter=ws.converter())
    >>> sorted(p.name for p in out.iterdir())[:4]
    ['README.md', 'converter', 'model_index.json', 'pipeline_mdctcompand.py']
    """
    from .pipeline import load_pipeline

    pipe = load_pipeline(model, lora=lora, converter=converter, device="cpu", dtype=dtype)
    if lora is not None:
        pipe.fuse_lora(lora_scale=float(lora_scale))
        pipe.unload_lora_weights()
    out = Path(output_dir)
    pipe.save_pretrained(out)
    write_model_card(
        out,
        base_model=str(model),
        title="mdctcompand text-to-audio model (LoRA fused)" if lora else "mdctcompand text-to-audio model",
        body=(
            f"Base model `{model}`"
            + (f" with the LoRA adapter `{lora}` fused at scale {lora_scale:g}" if lora else "")
            + ". The pipeline generates companded-MDCT images and turns them into audio with its saved converter."
        ),
        tags=["lora"] if lora else [],
    )
    return out


def write_model_card(
    directory: str | Path,
    *,
    base_model: str,
    title: str,
    body: str,
    tags: list[str] | None = None,
    config: dict[str, Any] | None = None,
    results: dict[str, Any] | None = None,
    validation: list[tuple[str, str]] | None = None,
) -> Path:
    """Write ``README.md``: Hugging Face model-card metadata, how to load the model, its settings.

    Parameters
    ----------
    directory : path
    base_model : str
    title, body : str
    tags : list of str, optional
    config : dict, optional
        Training settings, shown as a table.
    results : dict, optional
        Figures (final loss, steps, ...), shown as a table.
    validation : list of (prompt, audio path), optional

    Examples
    --------
    >>> import tempfile
    >>> path = write_model_card(tempfile.mkdtemp(), base_model="sd15", title="T", body="B", tags=["lora"])
    >>> path.read_text().splitlines()[:3]
    ['---', 'base_model: sd15', 'library_name: diffusers']
    """
    tags = ["mdctcompand", "text-to-audio", "diffusers", "mdct", *(tags or [])]
    lines = [
        "---",
        f"base_model: {json.dumps(base_model)[1:-1]}",
        "library_name: diffusers",
        "pipeline_tag: text-to-audio",
        "tags:",
    ]
    lines += [f"- {t}" for t in dict.fromkeys(tags)]
    lines += ["inference: false", "---", "", f"# {title}", "", body, "", "## Use", "", "```python",
              "from mdctcompand.diffusion import load_pipeline", ""]  # fmt: skip
    directory = Path(directory)
    if (directory / "pytorch_lora_weights.safetensors").is_file():
        lines.append(f'pipe = load_pipeline("{base_model}", lora="{directory.name}", device="auto")')
    else:
        lines.append(f'pipe = load_pipeline("{directory.name}", device="auto")')
    lines += ['out = pipe("a calm piano melody", num_inference_steps=50, seed=0, audio_length_s=30)',
              "out.audios, out.sample_rate", "```", ""]  # fmt: skip
    lines += [
        "Audio is represented as 8-bit companded MDCT images (time left to right, low frequencies at the",
        "bottom); the pipeline's `converter` component holds the transform settings. Evaluate samples with",
        "`mdctcompand evaluate GENERATED/ --reference REFERENCE/`.",
        "",
    ]
    for heading, table in (("Results", results), ("Training settings", config)):
        if table:
            lines += [f"## {heading}", "", "| setting | value |", "|---|---|"]
            lines += [f"| {k} | {_cell(v)} |" for k, v in table.items()]
            lines.append("")
    if validation:
        lines += ["## Validation samples", ""]
        lines += [f"- {prompt!r}: `{path}`" for prompt, path in validation]
        lines.append("")
    path = directory / "README.md"
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path


def _cell(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text.replace("|", "\\|")
