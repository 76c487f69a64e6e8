"""Checks on the demo knowledge base (assistant/demo_data/kb) and its benchmark questions.

Pure file checks, no model: every question must point at an article that exists and at a
section heading that exists in that article, so the retrieval benchmark can score it.
"""

from __future__ import annotations

import json
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "assistant" / "demo_data"
KB = DEMO / "kb"
QUESTIONS = DEMO / "kb_questions.jsonl"
CATEGORIES = {
    "orders",
    "shipping",
    "returns",
    "billing",
    "subscription",
    "account",
    "devices",
    "troubleshooting",
    "app",
    "policies",
    "faq",
}
SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to"}


class _HeadingParser(HTMLParser):
    """Collects the text of <title>, <h1> and <h2> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.headings: list[str] = []
        self._open: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in {"title", "h1", "h2"}:
            self._open, self._buf = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            text = " ".join("".join(self._buf).split())
            if tag == "title":
                self.title = text
            else:
                self.headings.append(text)
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self._buf.append(data)


def _is_txt_heading(line: str) -> bool:
    """A plain-text section heading: short, Title Case, no sentence punctuation."""
    words = line.split()
    if not 1 <= len(words) <= 10 or line[-1] in ".:;,!?":
        return False
    return all(w[0].isupper() or w[0].isdigit() or w.lower() in SMALL_WORDS for w in words)


def _txt_headings(text: str) -> tuple[str, list[str]]:
    """Title (first line) and the Title Case lines that stand alone between blank lines."""
    lines = text.splitlines()
    headings = []
    for i, line in enumerate(lines[1:], start=1):
        before = lines[i - 1].strip()
        after = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line.strip() and not before and not after and _is_txt_heading(line.strip()):
            headings.append(line.strip())
    return lines[0].strip(), headings


@cache
def articles() -> dict[str, dict]:
    """Article id -> {"path", "format", "title", "sections" (headings a question may cite)}."""
    found: dict[str, dict] = {}

    def add(article_id: str, info: dict) -> None:
        assert article_id not in found, f"duplicate article id {article_id!r} ({info['path']})"
        found[article_id] = info

    for path in sorted(KB.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(KB)
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".md":
            headings = [m.group(2).strip() for m in re.finditer(r"^(#{1,2}) +(.+)$", text, re.M)]
            title = headings[0] if text.startswith("# ") else ""
            add(
                rel.with_suffix("").as_posix(),
                {"path": path, "format": "md", "title": title, "sections": headings},
            )
        elif path.suffix == ".html":
            parser = _HeadingParser()
            parser.feed(text)
            add(
                rel.with_suffix("").as_posix(),
                {
                    "path": path,
                    "format": "html",
                    "title": parser.title,
                    "sections": parser.headings,
                },
            )
        elif path.suffix == ".txt":
            title, headings = _txt_headings(text)
            add(
                rel.with_suffix("").as_posix(),
                {"path": path, "format": "txt", "title": title, "sections": [title, *headings]},
            )
        elif path.suffix == ".jsonl":
            for n, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                record = json.loads(line)
                record_id = record.get("id", f"<line {n}>")
                add(
                    record_id,
                    {
                        "path": path,
                        "format": "jsonl",
                        "record": record,
                        "title": record.get("title", ""),
                        "sections": [record.get("title", "")],
                    },
                )
        else:
            pytest.fail(f"unexpected file in the knowledge base: {rel}")
    return found


@cache
def questions() -> list[dict]:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_enough_articles_in_every_format():
    by_format: dict[str, int] = {}
    for info in articles().values():
        by_format[info["format"]] = by_format.get(info["format"], 0) + 1
    assert len(articles()) >= 40, by_format
    assert by_format.get("md", 0) >= 40, by_format
    assert by_format.get("html", 0) >= 2, by_format
    assert by_format.get("txt", 0) >= 2, by_format
    assert by_format.get("jsonl", 0) >= 8, by_format


def test_articles_live_in_known_categories():
    for article_id in articles():
        assert article_id.split("/")[0] in CATEGORIES, article_id


def test_markdown_articles_have_title_and_sections():
    for article_id, info in articles().items():
        if info["format"] != "md":
            continue
        text = info["path"].read_text(encoding="utf-8")
        assert text.startswith("# "), f"{article_id}: first line must be '# Title'"
        sections = re.findall(r"^## +.+$", text, re.M)
        assert 3 <= len(sections) <= 6, f"{article_id}: {len(sections)} '##' sections, want 3-6"
        words = len(text.split())
        assert 150 <= words <= 700, f"{article_id}: {words} words, want 150-700"


def test_markdown_tables_are_used():
    with_tables = [
        a
        for a, info in articles().items()
        if info["format"] == "md" and "|---" in info["path"].read_text(encoding="utf-8")
    ]
    assert len(with_tables) >= 8


def test_html_articles_have_title_h1_and_h2():
    for article_id, info in articles().items():
        if info["format"] == "html":
            text = info["path"].read_text(encoding="utf-8")
            assert info["title"], f"{article_id}: no <title>"
            assert len(info["sections"]) >= 3, f"{article_id}: needs an <h1> and <h2> sections"
            assert "<p>" in text and "<ol>" in text, f"{article_id}: needs <p> and <ol>"


def test_txt_articles_have_title_and_sections():
    for article_id, info in articles().items():
        if info["format"] == "txt":
            assert info["title"], f"{article_id}: first line must be the title"
            assert len(info["sections"]) >= 4, f"{article_id}: found {info['sections']}"


def test_jsonl_records_have_id_title_and_body():
    records = [info["record"] for info in articles().values() if info["format"] == "jsonl"]
    assert len(records) >= 8
    for record in records:
        for key in ("id", "title", "body"):
            assert isinstance(record.get(key), str) and record[key].strip(), (key, record)
        assert record["id"].startswith("faq/"), record["id"]


def test_enough_questions_with_the_right_keys():
    qs = questions()
    assert len(qs) >= 150
    for n, q in enumerate(qs, start=1):
        assert set(q) == {"question", "article", "section"}, f"line {n}: keys {sorted(q)}"
        assert all(isinstance(v, str) and v.strip() for v in q.values()), f"line {n}: {q}"


def test_no_duplicate_questions():
    seen: dict[str, int] = {}
    for n, q in enumerate(questions(), start=1):
        key = " ".join(q["question"].lower().split())
        assert key not in seen, f"line {n} repeats line {seen[key]}: {q['question']!r}"
        seen[key] = n


def test_every_question_points_at_an_existing_article_and_section():
    known = articles()
    for n, q in enumerate(questions(), start=1):
        assert q["article"] in known, f"line {n}: no article {q['article']!r}"
        sections = known[q["article"]]["sections"]
        assert q["section"] in sections, (
            f"line {n}: {q['article']!r} has no section {q['section']!r}; it has {sections}"
        )


def test_every_file_article_has_questions():
    asked = {q["article"] for q in questions()}
    missing = [a for a, info in articles().items() if info["format"] != "jsonl" and a not in asked]
    assert not missing, f"articles without any question: {missing}"
