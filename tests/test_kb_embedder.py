"""Where a build's encoder runs: its own process (fresh interpreter) or a thread here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from kb_fixtures import build_config

from kb import build_index
from kb.embedder import Embedder
from kb.errors import ModelError

ROOT = Path(__file__).resolve().parents[1]

# Builds in a fresh interpreter, where torch is not imported: the encoder loads in a forked
# process, which forks its embedding workers; torch must never load in this process.
SCRIPT = """
import json, sys
from kb import BuildConfig, build_index
report = build_index(sys.argv[1], sys.argv[2], BuildConfig(
    model_path=sys.argv[3], show_progress=False, precision="fp32", workers=2))
print(json.dumps({"torch_here": "torch" in sys.modules, "embedded": report.embedded,
                  "count": report.count, "workers": report.workers}))
"""


def _many_passages(folder: Path, files: int = 110, sections: int = 10) -> Path:
    folder.mkdir()
    words = "refund parcel invoice doorbell battery reset password order warranty app".split()
    for f in range(files):
        parts = [f"# Article {f}"]
        for s in range(sections):
            text = " ".join(words[(f + s + i) % len(words)] for i in range(12 + s))
            parts += [f"## Section {s}", f"{text} number {f} {s}."]
        (folder / f"a{f:03d}.md").write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return folder


def test_build_in_a_fresh_process_loads_torch_only_in_the_encoder_process(tiny_st_model, tmp_path):
    docs = _many_passages(tmp_path / "docs")
    fresh = tmp_path / "fresh"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(docs), str(fresh), str(tiny_st_model)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"torch_here": False, "embedded": 1100, "count": 1100, "workers": 2}

    # The same passages built here (torch loaded: encoder in a thread) embed the same way.
    here = tmp_path / "here"
    build_index(docs, here, build_config(tiny_st_model, workers=2))
    a, b = (np.load(next(d.glob("embeddings.*.npy"))) for d in (fresh, here))
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_load_errors_surface_when_the_encoder_is_needed(tmp_path):
    embedder = Embedder(tmp_path / "no-model", "fp32")
    try:
        with pytest.raises(ModelError, match="no config.json"):
            embedder.info()
    finally:
        embedder.close()
