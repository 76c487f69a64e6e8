"""The knowledge bases under benchmarks/kbs: every question points at an article (and
section) that exists, questions are customers' words rather than copied titles, and each
collection is big enough to measure (pure file checks, no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.documents import parse_file, scan_folder

KBS = Path(__file__).resolve().parents[1] / "benchmarks" / "kbs"
NAMES = sorted(p.name for p in KBS.iterdir() if p.is_dir())


def _articles(name: str) -> dict:
    sources, skipped = scan_folder(KBS / name / "articles")
    assert skipped == []
    docs = [doc for src in sources for doc in parse_file(src)[0]]
    return {doc.article_id: doc for doc in docs}


def _questions(name: str) -> list[dict]:
    lines = (KBS / name / "questions.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_there_are_at_least_two_benchmark_kbs():
    assert {"helpdesk", "airline"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_questions_point_at_existing_articles_and_sections(name):
    articles = _articles(name)
    questions = _questions(name)
    assert len(questions) >= 100
    assert {q["article"] for q in questions} == set(articles)  # every article is asked about
    for q in questions:
        doc = articles[q["article"]]
        if "section" in q and q["section"] != doc.title:
            assert q["section"] in {s.heading for s in doc.sections}, q


@pytest.mark.parametrize("name", NAMES)
def test_questions_are_not_copies_of_titles(name):
    titles = {doc.title.lower().strip("?") for doc in _articles(name).values()}
    questions = [q["question"].lower().strip("?") for q in _questions(name)]
    assert not titles & set(questions)
    assert len(set(questions)) == len(questions)
