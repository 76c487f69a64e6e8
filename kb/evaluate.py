"""Article-level retrieval quality of an index on labelled questions.

Each line of the questions file is `{"question": str, "article": article id}`. Passages are
retrieved (`k` of them) and reduced to articles in order of their best passage; the rank of
the labelled article gives Recall@1, Recall@5 and the mean reciprocal rank (0 when absent).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from kb.errors import KBInputError
from kb.jsonl import parse_jsonl, read_text

if TYPE_CHECKING:
    from kb.knowledge_base import KnowledgeBase


def load_questions(path: str | os.PathLike) -> list[tuple[str, str, int]]:
    """(question, article id, line number) for each non-blank line of a JSONL file.

    Raises KBInputError naming the file and line of the first bad line.
    """
    path = Path(path)
    if not path.exists():
        raise KBInputError(f"questions file {path} does not exist")
    questions = []
    for lineno, record in parse_jsonl(read_text(path, KBInputError, True), path, KBInputError):
        where = f"{path}:{lineno}"
        if not isinstance(record, dict):
            raise KBInputError(f"{where}: expected an object with 'question' and 'article'")
        question, article = record.get("question"), record.get("article")
        if not isinstance(question, str) or not question.strip():
            raise KBInputError(f"{where}: 'question' must be a non-empty string, got {question!r}")
        if not isinstance(article, str) or not article.strip():
            raise KBInputError(f"{where}: 'article' must be an article id, got {article!r}")
        questions.append((question.strip(), article.strip(), lineno))
    if not questions:
        raise KBInputError(f"questions file {path} has no questions")
    return questions


def article_ranking(article_ids: list[str]) -> list[str]:
    """Distinct article ids in order of first appearance (the rank of their best passage).

    >>> article_ranking(["a", "b", "a", "c"])
    ['a', 'b', 'c']
    """
    return list(dict.fromkeys(article_ids))


def evaluate(kb: KnowledgeBase, questions_path: str | os.PathLike, k: int = 50) -> dict:
    """{"recall_at_1", "recall_at_5", "mrr", "n"} of `kb` on the questions file.

    `k` passages are retrieved per question, enough to rank articles. A question whose
    article is not in the index is an error (a typo in the file, or a stale index).
    """
    questions = load_questions(questions_path)
    check_articles(kb, questions, questions_path)
    embeddings = kb.encode([q for q, _, _ in questions])
    return evaluate_embedded(kb, questions, embeddings, k)


def check_articles(
    kb: KnowledgeBase, questions: list[tuple[str, str, int]], questions_path: str | os.PathLike
) -> None:
    """KBInputError naming the line of the first question whose article is not in `kb`."""
    known = kb.article_ids()
    for _, article, lineno in questions:
        if article not in known:
            raise KBInputError(
                f"{questions_path}:{lineno}: article {article!r} is not in the index {kb.index_dir}"
            )


def evaluate_embedded(
    kb: KnowledgeBase, questions: list[tuple[str, str, int]], embeddings, k: int = 50
) -> dict:
    """Like `evaluate` for questions already loaded and encoded with the index's model
    (`embeddings`: one row per question), so several settings can share one encoding."""
    hits_1 = hits_5 = 0
    reciprocal = 0.0
    for (question, article, _), embedding in zip(questions, embeddings, strict=True):
        ranking = article_ranking(
            [p.article_id for p in kb.search_embedding(embedding, k, question)]
        )
        if article in ranking:
            rank = ranking.index(article) + 1
            hits_1 += rank == 1
            hits_5 += rank <= 5
            reciprocal += 1.0 / rank
    n = len(questions)
    return {
        "recall_at_1": hits_1 / n,
        "recall_at_5": hits_5 / n,
        "mrr": reciprocal / n,
        "n": n,
    }


__all__ = ["evaluate", "evaluate_embedded", "check_articles", "load_questions", "article_ranking"]
