"""Ingestion of each format, ids and titles, and files that are skipped."""

from __future__ import annotations

from pathlib import Path

from kb_fixtures import DATA, SAMPLE_ARTICLES

from kb.documents import (
    parse_file,
    parse_html,
    parse_json,
    parse_markdown,
    parse_text,
    scan_folder,
)


def _docs(folder: Path):
    sources, skipped = scan_folder(folder)
    docs = []
    for source in sources:
        found, bad = parse_file(source)
        docs.extend(found)
        skipped.extend(bad)
    return {d.article_id: d for d in docs}, skipped


def test_sample_folder_gives_every_article_with_its_id_and_source():
    docs, skipped = _docs(DATA)
    assert set(docs) == SAMPLE_ARTICLES
    assert skipped == []
    assert docs["billing/refunds"].source == "billing/refunds.md"
    assert docs["faq/gift-cards"].source == "faq.jsonl"
    assert docs["guides/descaling"].source == "guides.json"


def test_markdown_title_sections_and_table_rows():
    docs, _ = _docs(DATA)
    doc = docs["billing/refunds"]
    assert doc.title == "Refunds"  # the first "# " heading, after the front matter
    assert [s.heading for s in doc.sections] == [
        "",
        "How long a refund takes",
        "Refunds for cancelled orders",
    ]
    table = [b for b in doc.sections[1].blocks if b.kind == "table"][0]
    assert table.lines[0] == "| Payment method | Time after the refund is issued |"
    assert table.lines[2] == "| Credit card | 5 to 10 business days |"
    bullets = [b for b in doc.sections[2].blocks if b.kind == "list"][0]
    assert len(bullets.lines) == 2


def test_markdown_nested_headings_make_a_trail_and_code_is_kept():
    text = "# Guide\n\n## Setup\n\n### Wi-Fi\n\nJoin.\n\n```\nping hub\n```\n\n## Use\n\nPress."
    doc = parse_markdown(text, "guide", "guide.md")
    assert [s.heading for s in doc.sections] == ["Setup > Wi-Fi", "Use"]
    assert doc.sections[0].blocks[1].kind == "code"
    assert doc.sections[0].blocks[1].lines == ["ping hub"]


def test_markdown_without_title_falls_back_to_file_name():
    doc = parse_markdown("Just a paragraph.", "billing/late-fees", "billing/late-fees.md")
    assert doc.title == "Late fees"


def test_html_title_headings_table_and_list_without_script_or_nav():
    docs, _ = _docs(DATA)
    doc = docs["shipping/delivery"]
    assert doc.title == "Delivery times and costs"
    assert [s.heading for s in doc.sections] == ["", "Shipping options", "Tracking a parcel"]
    table = doc.sections[1].blocks[0]
    assert table.kind == "table"
    assert table.lines[0] == "| Option | Time | Cost |"
    assert table.lines[2] == "| Standard | 3 to 5 days | Free over 30 pounds |"
    text = " ".join(line for s in doc.sections for b in s.blocks for line in b.lines)
    assert "console.log" not in text and "Home" not in text and "color" not in text


def test_html_ordered_lists_keep_their_numbers():
    html = (
        "<h1>Pairing</h1><ol><li>Switch the bike on.</li><li>Open the app.</li></ol>"
        "<ul><li>Bluetooth on</li></ul><ol><li>Again from one</li></ol>"
    )
    doc = parse_html(html, "pairing", "pairing.html")
    assert [b.lines for b in doc.sections[0].blocks] == [
        ["1. Switch the bike on.", "2. Open the app."],
        ["- Bluetooth on"],
        ["1. Again from one"],
    ]


def test_html_title_from_h1_when_no_title_tag():
    doc = parse_html("<h1>Returns</h1><p>Send it back.</p>", "returns", "returns.html")
    assert doc.title == "Returns"
    assert doc.sections[0].blocks[0].lines == ["Send it back."]


def test_text_title_is_first_line_and_short_lines_are_headings():
    docs, _ = _docs(DATA)
    doc = docs["account/password"]
    assert doc.title == "Resetting your password"
    assert [s.heading for s in doc.sections] == ["", "Reset link not arriving"]
    plain = parse_text("\n\nTitle line\nBody one.\n", "t", "t.txt")
    assert plain.title == "Title line"


def test_json_records_ids_and_fallback_ids():
    docs, skipped = parse_json(
        '[{"title": "A", "body": "Alpha."}, {"id": 7, "title": "B", "body": "Beta."}]',
        "faq/misc",
        "faq/misc.json",
        lines=False,
    )
    assert [d.article_id for d in docs] == ["faq/misc#1", "7"]
    assert [d.title for d in docs] == ["A", "B"]
    assert skipped == []


def test_json_bad_records_are_skipped_and_named():
    text = '{"id": "a", "title": "A", "body": "ok"}\n{"id": "b", "title": "B"}\n[1]\n'
    docs, skipped = parse_json(text, "f", "f.jsonl", lines=True)
    assert [d.article_id for d in docs] == ["a"]
    assert [(s.path, s.reason) for s in skipped] == [
        ("f.jsonl (line 2)", "no string 'body'"),
        ("f.jsonl (line 3)", "not a JSON object"),
    ]
    _, skipped = parse_json("{oops", "f", "f.json", lines=False)
    assert skipped[0].reason.startswith("invalid JSON at line 1")
    _, skipped = parse_json('{"id": "a", "title": "A", "body": "x"}\nnope\n', "f", "f.jsonl", True)
    assert skipped[0].reason.startswith("invalid JSON on line 2")


def test_binary_non_utf8_unsupported_and_empty_files_are_skipped(tmp_path: Path):
    (tmp_path / "ok.md").write_text("# Ok\n\nFine.")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "binary.md").write_bytes(b"# x\x00\x01\x02")
    (tmp_path / "latin.txt").write_bytes("Caf\xe9".encode("latin-1"))
    (tmp_path / "empty.md").write_text("")
    (tmp_path / ".hidden.md").write_text("# Hidden")
    docs, skipped = _docs(tmp_path)
    assert set(docs) == {"ok"}
    reasons = {s.path: s.reason for s in skipped}
    assert reasons["image.png"] == "unsupported file type '.png'"
    assert reasons["binary.md"] == "binary file"
    assert reasons["latin.txt"].startswith("not UTF-8 text (byte 0xe9")
    assert reasons["empty.md"] == "no text"
    assert ".hidden.md" not in reasons
