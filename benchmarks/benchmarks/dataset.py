"""Dataset builder: time to turn one 10 s 44.1 kHz clip into a 512 x 512 PNG with its record."""

import shutil
import tempfile
from pathlib import Path

from lab.dataset import make_corpus
from mdctcompand.dataset import BuildConfig, process_item, read_captions


class BuildItem:
    def setup(self):
        self.root = Path(tempfile.mkdtemp(prefix="asv-dataset-"))
        specs, _ = read_captions(make_corpus(self.root / "corpus", 1))
        self.job = (specs[0], BuildConfig(), str(self.root / "out"))
        process_item(self.job)

    def teardown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def time_process_item(self):
        process_item(self.job)
