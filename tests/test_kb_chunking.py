"""Passage limits, overlap, tables and metadata."""

from __future__ import annotations

from kb.chunking import chunk_document, embedding_text
from kb.documents import parse_markdown


def _long_markdown(sentences: int = 40) -> str:
    body = " ".join(f"Sentence number {i} is about refunds and delivery." for i in range(sentences))
    return f"# Long\n\n## Part\n\n{body}\n"


def test_passages_respect_the_word_limit_and_number_their_position():
    doc = parse_markdown(_long_markdown(), "long", "long.md")
    chunks = chunk_document(doc, max_words=40, overlap_words=10)
    assert len(chunks) > 5
    assert all(len(c.text.split()) <= 40 for c in chunks)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert {(c.article_id, c.title, c.section, c.source) for c in chunks} == {
        ("long", "Long", "Part", "long.md")
    }


def test_consecutive_passages_share_whole_trailing_sentences():
    doc = parse_markdown(_long_markdown(), "long", "long.md")
    chunks = chunk_document(doc, max_words=40, overlap_words=10)
    for before, after in zip(chunks, chunks[1:], strict=False):
        last_sentence = before.text.rsplit(". ", 1)[-1]
        assert after.text.startswith(last_sentence)


def test_no_overlap_when_disabled_and_every_sentence_kept_once():
    doc = parse_markdown(_long_markdown(), "long", "long.md")
    chunks = chunk_document(doc, max_words=40, overlap_words=0)
    joined = " ".join(c.text for c in chunks)
    assert joined.count("Sentence number 7 ") == 1
    assert joined.count("Sentence number") == 40


def test_sections_never_share_a_passage():
    doc = parse_markdown("# T\n\n## A\n\nAlpha text.\n\n## B\n\nBeta text.", "t", "t.md")
    chunks = chunk_document(doc, max_words=100, overlap_words=20)
    assert [(c.section, c.text) for c in chunks] == [("A", "Alpha text."), ("B", "Beta text.")]


def test_a_split_table_repeats_its_header_in_every_passage():
    rows = "\n".join(f"| Plan {i} | {i} pounds a month with many extras |" for i in range(30))
    doc = parse_markdown(f"# Plans\n\n| Plan | Price |\n|---|---|\n{rows}\n", "plans", "plans.md")
    chunks = chunk_document(doc, max_words=50, overlap_words=10)
    assert len(chunks) > 2
    for chunk in chunks:
        lines = chunk.text.splitlines()
        assert lines[:2] == ["| Plan | Price |", "|---|---|"]
        assert all(line.startswith("| ") or line.startswith("|-") for line in lines)


def test_a_sentence_longer_than_the_limit_is_cut_into_windows():
    doc = parse_markdown("# W\n\n" + "word " * 250, "w", "w.md")
    chunks = chunk_document(doc, max_words=100, overlap_words=0)
    assert [len(c.text.split()) for c in chunks] == [100, 100, 50]


def test_embedded_text_starts_with_title_and_section():
    doc = parse_markdown("# Refunds\n\n## Timing\n\nFive days.", "r", "r.md")
    (chunk,) = chunk_document(doc)
    assert chunk.text == "Five days."
    assert chunk.embed_text() == "Refunds\nTiming\nFive days."
    assert embedding_text("Title", "", "Body") == "Title\nBody"


def test_without_packing_every_block_starts_a_passage():
    doc = parse_markdown(
        "# T\n\n## Steps\n\nBefore you start.\n\n1. Open it.\n2. Close it.\n\nDone.", "t", "t.md"
    )
    packed = chunk_document(doc, max_words=100, overlap_words=20)
    assert [c.text for c in packed] == ["Before you start.\n\n1. Open it.\n2. Close it.\n\nDone."]
    blocks = chunk_document(doc, max_words=100, overlap_words=20, pack_blocks=False)
    assert [c.text for c in blocks] == ["Before you start.", "1. Open it.\n2. Close it.", "Done."]
    assert [c.position for c in blocks] == [0, 1, 2]


def test_embedding_templates_and_keyword_text():
    doc = parse_markdown("# Refunds\n\n## Timing\n\nFive days.", "r", "r.md")
    (chunk,) = chunk_document(doc)
    assert chunk.embed_text("title") == "Refunds\nFive days."
    assert chunk.embed_text("text") == "Five days."
    assert chunk.keyword_text() == "Refunds\nTiming\nFive days."  # whatever the template
    import pytest

    with pytest.raises(ValueError, match="'header'"):
        chunk.embed_text("header")


def test_a_numbered_items_number_stays_with_its_first_sentence():
    steps = "\n".join(f"{n}. Do step {n} now. Then check it." for n in range(1, 8))
    doc = parse_markdown(f"# Steps\n\n{steps}", "steps", "steps.md")
    chunks = chunk_document(doc, max_words=20, overlap_words=0)
    for chunk in chunks:
        # no passage ends with a bare "7." and every line starts with its number
        assert not chunk.text.rstrip().split("\n")[-1].rstrip(".").isdigit(), chunk.text
    lines = [line for c in chunks for line in c.text.split("\n")]
    assert "7. Do step 7 now. Then check it." in lines or "7. Do step 7 now." in lines
