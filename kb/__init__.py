"""The knowledge base: article ingestion, FAISS retrieval and citations.

    build_index(docs_dir, out_dir, BuildConfig()) -> BuildReport
    kb = KnowledgeBase.load(index_dir)            # once; the model loads with it
    kb.search("How long does a refund take?", k=5) -> list[Passage]
    evaluate(kb, "questions.jsonl") -> {"recall_at_1", "recall_at_5", "mrr", "n"}

Importing `kb` is light: torch, faiss and sentence_transformers load when an index is
built or loaded. `kb` imports nothing from `assistant` or `training`.
"""

from __future__ import annotations

from kb.build import BuildReport, build_index
from kb.config import BuildConfig, SearchConfig
from kb.errors import KBError, KBIndexError, KBInputError
from kb.evaluate import evaluate, load_questions
from kb.knowledge_base import KnowledgeBase, Passage

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
