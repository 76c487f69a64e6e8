"""Article-level Recall@1/@5 and MRR, and bad question files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kb import KBInputError, Passage, evaluate, load_questions
from kb.evaluate import article_ranking


class _FakeKB:
    """Returns fixed passage rankings per question, to check the arithmetic exactly."""

    index_dir = Path("fake")

    def __init__(self, rankings: dict[str, list[str]]) -> None:
        self.rankings = rankings

    def article_ids(self) -> set[str]:
        return {a for ranking in self.rankings.values() for a in ranking}

    def encode(self, texts):
        return np.zeros((len(texts), 2), dtype=np.float32)

    def search_embedding(self, embedding, k=5, text=None):
        return [
            Passage(article, "", "", "", 1.0 - i / 100)
            for i, article in enumerate(self.rankings[text][:k])
        ]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_metrics_count_each_article_once_at_its_best_passage(tmp_path):
    kb = _FakeKB(
        {
            "q1": ["a", "a", "b"],  # rank 1
            "q2": ["a", "a", "a", "b"],  # passages of one article collapse: b is rank 2
            "q3": ["a", "b", "c", "d", "e", "f"],  # rank 6: not in the top 5
            "q4": ["b", "c"],  # "a" absent: reciprocal rank 0
        }
    )
    questions = _write(
        tmp_path / "q.jsonl",
        [
            json.dumps({"question": "q1", "article": "a"}),
            json.dumps({"question": "q2", "article": "b"}),
            json.dumps({"question": "q3", "article": "f"}),
            "",
            json.dumps({"question": "q4", "article": "a"}),
        ],
    )
    metrics = evaluate(kb, questions)
    assert metrics == {
        "recall_at_1": 0.25,
        "recall_at_5": 0.5,
        "mrr": pytest.approx((1 + 1 / 2 + 1 / 6 + 0) / 4),
        "n": 4,
    }


def test_article_ranking_keeps_first_appearance():
    assert article_ranking(["x", "y", "x", "z", "y"]) == ["x", "y", "z"]


def test_evaluate_on_a_real_index(tiny_kb, tmp_path):
    questions = _write(
        tmp_path / "q.jsonl",
        [
            json.dumps({"question": "How long does a refund take?", "article": "billing/refunds"}),
            json.dumps({"question": "When is support open?", "article": "faq/opening-hours"}),
        ],
    )
    metrics = evaluate(tiny_kb, questions)
    assert set(metrics) == {"recall_at_1", "recall_at_5", "mrr", "n"}
    assert metrics["n"] == 2
    # k=50 passages cover all 7 articles, so every labelled article gets a rank
    assert metrics["mrr"] >= 1 / 7
    assert 0.0 <= metrics["recall_at_1"] <= metrics["recall_at_5"] <= 1.0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{oops", "invalid JSON"),
        ('["question", "article"]', "expected an object"),
        ('{"question": "", "article": "a"}', "'question' must be a non-empty string"),
        ('{"question": "hi"}', "'article' must be an article id, got None"),
        ('{"question": "hi", "article": 3}', "'article' must be an article id, got 3"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    path = _write(tmp_path / "q.jsonl", ['{"question": "fine", "article": "a"}', line])
    with pytest.raises(KBInputError, match=f"q.jsonl:2: {message}".replace("[", r"\[")):
        load_questions(path)


def test_missing_and_empty_question_files(tmp_path):
    with pytest.raises(KBInputError, match="does not exist"):
        load_questions(tmp_path / "none.jsonl")
    with pytest.raises(KBInputError, match="has no questions"):
        load_questions(_write(tmp_path / "empty.jsonl", [""]))


def test_unknown_article_is_an_error_with_its_line(tiny_kb, tmp_path):
    path = _write(
        tmp_path / "q.jsonl",
        [
            json.dumps({"question": "refund?", "article": "billing/refunds"}),
            json.dumps({"question": "fees?", "article": "billing/fees"}),
        ],
    )
    with pytest.raises(KBInputError, match=r"q\.jsonl:2: article 'billing/fees' is not in"):
        evaluate(tiny_kb, path)
