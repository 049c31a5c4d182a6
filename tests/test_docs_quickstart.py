"""The quickstart's code blocks run as written, and run again (a reader pastes them twice)."""

import re
from pathlib import Path

import pytest

QUICKSTART = Path(__file__).resolve().parents[1] / "docs" / "quickstart.rst"


def _python_blocks(text):
    blocks = []
    for match in re.finditer(r"^\.\. code-block:: python\n\n((?:   .*\n|\n)+)", text, flags=re.M):
        lines = [line[3:] for line in match.group(1).splitlines()]
        blocks.append("\n".join(lines).strip() + "\n")
    return blocks


def test_quickstart_blocks_run_twice(tmp_path, monkeypatch):
    pytest.importorskip("soundfile")
    monkeypatch.chdir(tmp_path)
    blocks = _python_blocks(QUICKSTART.read_text())
    assert len(blocks) >= 3
    for round_ in range(2):
        namespace = {}
        for block in blocks:
            exec(compile(block, f"quickstart.rst (round {round_ + 1})", "exec"), namespace)
    assert (tmp_path / "song.jpg").exists() and (tmp_path / "back.wav").exists()


def test_install_is_from_the_source_tree():
    text = QUICKSTART.read_text()
    assert "python -m pip install ." in text and "pip install mdctcompand\n" not in text


def test_no_page_installs_from_pypi():
    """mdctcompand is not published: every install command in the docs and README uses the source tree."""
    root = QUICKSTART.parents[1]
    pages = [*sorted((root / "docs").glob("*.rst")), root / "README.md"]
    wrong = [
        f"{page.name}: {line.strip()}"
        for page in pages
        for line in page.read_text().splitlines()
        if re.search(r"pip install ['\"]?mdctcompand", line)
    ]
    assert wrong == []


def test_io_reachable_after_import():
    """In a fresh interpreter (in this one another test may have imported it already)."""
    import subprocess
    import sys

    code = "import mdctcompand; print(callable(mdctcompand.io.load_audio), mdctcompand.codec.encode.__name__)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["True", "encode"]
