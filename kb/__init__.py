"""The knowledge base: article ingestion, FAISS retrieval and citations.

    build_index(docs_dir, out_dir, BuildConfig()) -> BuildReport
    kb = KnowledgeBase.load(index_dir)            # once; the model loads with it
    kb.search("How long does a refund take?", k=5) -> list[Passage]
    evaluate(kb, "questions.jsonl") -> {"recall_at_1", "recall_at_5", "mrr", "n"}

Importing `kb` is light: the build and the index (numpy, and then torch, transformers and
faiss) load when `build_index`, `BuildReport` or `KnowledgeBase` is first used, so the runtime
can import `Passage` (the record every reply cites) at no cost. `kb` is the lowest layer: it
imports nothing from `assistant` or `training`, and holds what they share: the encoder
(`kb.encoder`), model paths (`kb.paths`), the manifest format (`kb.manifest`), the JSONL
reader (`kb.jsonl`) and the error tree (`kb.errors`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from kb.config import BuildConfig, SearchConfig
from kb.errors import KBError, KBIndexError, KBInputError
from kb.evaluate import evaluate, load_questions
from kb.passage import Passage

if TYPE_CHECKING:
    from kb.build import BuildReport, build_index
    from kb.knowledge_base import KnowledgeBase

# Names whose modules import numpy at import time: loaded on first use (PEP 562).
_LAZY = {"BuildReport": "kb.build", "build_index": "kb.build", "KnowledgeBase": "kb.knowledge_base"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kb' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "BuildConfig",
    "BuildReport",
    "KBError",
    "KBIndexError",
    "KBInputError",
    "KnowledgeBase",
    "Passage",
    "SearchConfig",
    "build_index",
    "evaluate",
    "load_questions",
]
