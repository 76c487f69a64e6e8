"""The layers in pyproject.toml, checked by import-linter: kb at the bottom, the runtime
(assistant) above it, training above that, the shell (assistant.cli, assistant.demo) on top.

The tree must keep every contract, and each contract must break when its rule is broken: a
copy of the packages gets one bad import at a time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kb", "assistant", "training")


def lint(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` on the packages under `root`, with the contracts of its pyproject.toml."""
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(no_cache=True, no_logo=True))"
    )
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True
    )


def test_the_tree_keeps_every_contract():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    """The packages and pyproject.toml, without data files (import-linter reads Python)."""
    root = tmp_path_factory.mktemp("layers")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, root / package, ignore=shutil.ignore_patterns("demo_data", "*.pyc")
        )
    shutil.copy(ROOT / "pyproject.toml", root)
    return root


# (module that gets the bad import, the import, the contract that must break)
VIOLATIONS = [
    ("kb/paths.py", "import assistant.errors", "kb is the lowest layer"),
    ("kb/jsonl.py", "import training.data", "kb is the lowest layer"),
    ("assistant/engine.py", "import training.metrics", "The runtime never imports training"),
    ("training/split.py", "import assistant.cli", "Training is below the shell"),
    ("assistant/reply.py", "from assistant.cli import cli", "the shell is on top"),
]


@pytest.mark.parametrize(("module", "line", "contract"), VIOLATIONS)
def test_each_contract_breaks_when_its_rule_is_broken(copy, module, line, contract):
    path = copy / module
    original = path.read_text()
    # inside a function, as the code base imports heavy modules: import-linter still sees it
    path.write_text(original + f"\n\ndef _bad():\n    {line}\n")
    try:
        result = lint(copy)
    finally:
        path.write_text(original)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if "BROKEN" in row]
    # kb -> training also breaks "the runtime never imports training", through kb
    assert any(contract in row for row in broken), result.stdout


def test_a_new_runtime_module_must_be_placed_in_a_layer(copy):
    extra = copy / "assistant" / "unplaced.py"
    extra.write_text("VALUE = 1\n")
    try:
        result = lint(copy)
    finally:
        extra.unlink()
    assert result.returncode != 0 and "assistant.unplaced" in result.stdout
