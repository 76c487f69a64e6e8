"""The docstring examples run with the default test command, and only model loads are skipped.

The examples themselves run through pytest's `--doctest-modules` (pyproject.toml); this module
checks the configuration that makes them run and the one rule for `# doctest: +SKIP`: only an
example that needs a trained model (a `.load(`, and what uses its result) may skip.
"""

from __future__ import annotations

import ast
import doctest
import shlex
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kb", "assistant", "training")


def pytest_options() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]


def docstrings(path: Path):
    """(line, docstring) of the module, classes and functions in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            text = ast.get_docstring(node, clean=False)
            if text:
                yield getattr(node, "lineno", 1), text


def package_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_default_run_collects_the_docstring_examples_of_every_package():
    options = pytest_options()
    assert "--doctest-modules" in shlex.split(options["addopts"])
    with_examples = {
        p.relative_to(ROOT).parts[0]
        for p in package_files()
        if any(">>>" in text for _, text in docstrings(p))
    }
    assert with_examples, "no docstring examples found: has the layout changed?"
    assert with_examples <= set(options["testpaths"]), (
        f"packages with docstring examples {sorted(with_examples)} must all be in "
        f"[tool.pytest.ini_options] testpaths {options['testpaths']} so that they run"
    )


def skipped_examples() -> list[tuple[str, list[doctest.Example]]]:
    parser = doctest.DocTestParser()
    found = []
    for path in package_files():
        for line, text in docstrings(path):
            examples = parser.get_examples(text)
            skipped = [e for e in examples if e.options.get(doctest.SKIP)]
            if skipped:
                found.append((f"{path.relative_to(ROOT)}:{line}", skipped))
    return found


SKIPPED = skipped_examples()


@pytest.mark.parametrize("where, examples", SKIPPED, ids=[where for where, _ in SKIPPED])
def test_an_example_is_skipped_only_when_it_needs_a_trained_model(where, examples):
    assert any(".load(" in e.source for e in examples), (
        f"{where}: a docstring example is marked `# doctest: +SKIP` but loads no model; make "
        "it run (a small input and its output) or load the model it needs in the example"
    )
