"""Fixtures shared by the kb tests: a copy of the sample docs and indexes built from them.

The tiny random model comes from `tiny_st_model` in conftest.py. A test module gets these
fixtures through conftest.py and the constants and helpers with a plain
import. There are no asserts here, hence no assertion rewriting: PYTEST_DONT_REWRITE.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data" / "kb"

# The articles in tests/data/kb and the number of files they come from.
SAMPLE_ARTICLES = {
    "billing/refunds",
    "billing/invoices",
    "shipping/delivery",
    "account/password",
    "faq/gift-cards",
    "faq/opening-hours",
    "guides/descaling",
}
SAMPLE_FILES = 6


def build_config(model: Path, **overrides):
    """A BuildConfig for tests: the tiny model, no progress bar, fp32, 100-word passages."""
    from kb import BuildConfig

    # 100-word passages: the sample articles' tables were written to fit one passage
    options = {
        "model_path": str(model),
        "show_progress": False,
        "precision": "fp32",
        "max_words": 100,
        "overlap_words": 20,
    }
    options.update(overrides)
    return BuildConfig(**options)


@pytest.fixture
def kb_docs(tmp_path: Path) -> Path:
    """A writable copy of tests/data/kb."""
    return Path(shutil.copytree(DATA, tmp_path / "docs"))


@pytest.fixture(scope="session")
def tiny_index(tiny_st_model: Path, tmp_path_factory) -> Path:
    """An index of tests/data/kb built once with the tiny model; tests must not modify it."""
    from kb import build_index

    out = tmp_path_factory.mktemp("kb-index") / "index"
    build_index(DATA, out, build_config(tiny_st_model))
    return out


@pytest.fixture(scope="session")
def tiny_kb(tiny_index: Path, tiny_st_model: Path):
    """The tiny index, loaded once."""
    from kb import KnowledgeBase

    kb = KnowledgeBase.load(tiny_index)
    yield kb
    kb.close()
