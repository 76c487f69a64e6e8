"""Reading a docs folder: Markdown, plain text, HTML and JSON/JSONL into `Document`s.

A document is an article split into sections (one per heading) made of blocks (paragraphs,
lists, tables, code). Unreadable, binary or unsupported files are not errors: they come back
as `Skipped` entries so the build can list them.

>>> doc = parse_markdown("# Refunds\\n\\nIntro.\\n\\n## Timing\\n\\nFive days.", "refunds", "r.md")
>>> doc.title, [(s.heading, s.blocks[0].lines) for s in doc.sections]
('Refunds', [('', ['Intro.']), ('Timing', ['Five days.'])])
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

MARKDOWN_SUFFIXES = (".md", ".markdown")
TEXT_SUFFIXES = (".txt", ".text")
HTML_SUFFIXES = (".html", ".htm")
JSON_SUFFIXES = (".json", ".jsonl")
SUPPORTED_SUFFIXES = MARKDOWN_SUFFIXES + TEXT_SUFFIXES + HTML_SUFFIXES + JSON_SUFFIXES

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
_SPACES = re.compile(r"\s+")
_TEXT_HEADING_WORDS = 10


@dataclass
class Block:
    """A run of text in one section: a paragraph, a list, a table or a code block."""

    kind: str  # "text" | "list" | "table" | "code"
    lines: list[str]  # paragraph: one line; list: one item a line; table: one row a line


@dataclass
class Section:
    """The blocks under one heading; `heading` is the trail below the title ("Billing > Fees")."""

    heading: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Document:
    """One article: an id unique in the collection, a title, the file it came from, sections."""

    article_id: str
    title: str
    source: str  # path relative to the docs folder, with forward slashes
    sections: list[Section]

    def is_empty(self) -> bool:
        """True when the article has no text at all."""
        return not any(block.lines for section in self.sections for block in section.blocks)


@dataclass(frozen=True)
class Skipped:
    """A file (or a JSON record) that was not ingested, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class SourceFile:
    """A candidate file found under the docs folder, with the hash of its bytes."""

    rel: str  # path relative to the docs folder, forward slashes
    path: Path
    data: bytes
    sha256: str


def scan_folder(
    docs_dir: Path, exclude: Path | None = None
) -> tuple[list[SourceFile], list[Skipped]]:
    """Every supported file under `docs_dir` (recursively, sorted), and the files skipped.

    Hidden files and folders (a name starting with ".") are ignored silently, and so is the
    `exclude` folder (an index written inside the docs folder).
    """
    files: list[SourceFile] = []
    skipped: list[Skipped] = []
    exclude = exclude.resolve() if exclude is not None else None
    for path in sorted(docs_dir.rglob("*")):
        rel_parts = path.relative_to(docs_dir).parts
        if any(part.startswith(".") for part in rel_parts) or path.is_dir():
            continue
        if exclude is not None and path.resolve().is_relative_to(exclude):
            continue
        rel = "/".join(rel_parts)
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            skipped.append(Skipped(rel, f"unsupported file type {path.suffix or '(none)'!r}"))
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            skipped.append(Skipped(rel, f"cannot read: {exc.strerror or exc}"))
            continue
        files.append(SourceFile(rel, path, data, hashlib.sha256(data).hexdigest()))
    return files, skipped


def decode_text(data: bytes) -> str:
    """UTF-8 text of a file; ValueError with a short reason for binary or non-UTF-8 data."""
    if b"\x00" in data[:8192]:
        raise ValueError("binary file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def parse_file(source: SourceFile) -> tuple[list[Document], list[Skipped]]:
    """The documents in one file (several for JSON/JSONL) and the records skipped in it."""
    try:
        text = decode_text(source.data)
    except ValueError as exc:
        return [], [Skipped(source.rel, str(exc))]
    suffix = source.path.suffix.lower()
    article_id = source.rel.rsplit(".", 1)[0]
    if suffix in JSON_SUFFIXES:
        return parse_json(text, article_id, source.rel, lines=suffix == ".jsonl")
    if suffix in HTML_SUFFIXES:
        doc = parse_html(text, article_id, source.rel)
    elif suffix in TEXT_SUFFIXES:
        doc = parse_text(text, article_id, source.rel)
    else:
        doc = parse_markdown(text, article_id, source.rel)
    if doc.is_empty():
        return [], [Skipped(source.rel, "no text")]
    return [doc], []


def _title_from_id(article_id: str) -> str:
    """A readable fallback title: "billing/late-fees" -> "Late fees"."""
    stem = article_id.rsplit("/", 1)[-1].replace("-", " ").replace("_", " ").strip()
    return stem[:1].upper() + stem[1:] if stem else article_id


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


class _SectionBuilder:
    """Accumulates sections and blocks while a parser walks a document."""

    def __init__(self) -> None:
        self.sections: list[Section] = [Section("")]
        self.trail: list[tuple[int, str]] = []  # (level, heading) of the open headings

    def heading(self, level: int, text: str) -> None:
        while self.trail and self.trail[-1][0] >= level:
            self.trail.pop()
        self.trail.append((level, text))
        self.sections.append(Section(" > ".join(h for _, h in self.trail)))

    def block(self, kind: str, lines: list[str]) -> None:
        lines = [line for line in lines if line.strip()]
        if lines:
            self.sections[-1].blocks.append(Block(kind, lines))

    def result(self) -> list[Section]:
        return [s for s in self.sections if s.blocks]


def _front_matter(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """Split a leading YAML front matter (--- ... ---) off; only `key: value` lines are read."""
    if not lines or lines[0].strip() != "---":
        return {}, lines
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            meta = {}
            for line in lines[1:end]:
                key, sep, value = line.partition(":")
                if sep:
                    meta[key.strip().lower()] = value.strip().strip("\"'")
            return meta, lines[end + 1 :]
    return {}, lines


def parse_markdown(text: str, article_id: str, source: str, title: str | None = None) -> Document:
    """A Markdown article. The title is the first `# ` heading (or front matter `title:`,
    else `title`, else the file name); later headings start sections. Tables keep one row
    a line so they stay readable in passages."""
    meta, lines = _front_matter(text.splitlines())
    title = title or meta.get("title") or None
    out = _SectionBuilder()
    para: list[str] = []
    items: list[str] = []
    table: list[str] = []
    code: list[str] = []
    fence: str | None = None

    def flush() -> None:
        if para:
            out.block("text", [_clean(" ".join(para))])
        if items:
            out.block("list", [_clean(item) for item in items])
        if table:
            out.block("table", list(table))
        para.clear()
        items.clear()
        table.clear()

    for line in lines:
        if fence is not None:
            if line.strip().startswith(fence):
                out.block("code", list(code))
                code.clear()
                fence = None
            else:
                code.append(line.rstrip())
            continue
        stripped = line.strip()
        fence_match = _FENCE.match(line)
        if fence_match:
            flush()
            fence = fence_match.group(1)
            continue
        heading = _HEADING.match(stripped) if not line.startswith((" ", "\t")) else None
        if heading:
            flush()
            level, text_ = len(heading.group(1)), _clean(heading.group(2))
            if level == 1 and (title is None or text_ == title):
                title = title or text_
            elif text_:
                out.heading(level, text_)
            continue
        if para and len(para) == 1 and re.fullmatch(r"=+", stripped):  # setext heading
            text_ = para.pop()
            if title is None:
                title = _clean(text_)
            else:
                out.heading(1, _clean(text_))
            continue
        if para and len(para) == 1 and re.fullmatch(r"-+", stripped):
            text_ = para.pop()
            out.heading(2, _clean(text_))
            continue
        if not stripped or _RULE.match(stripped):
            flush()
            continue
        if stripped.startswith("|"):
            if para or items:
                flush()
            table.append(stripped)
            continue
        if _LIST_ITEM.match(line):
            if para or table:
                flush()
            items.append(stripped)
            continue
        if items and line[:1] in (" ", "\t"):  # continuation of a list item
            items[-1] += " " + stripped
            continue
        if table:
            flush()
        para.append(stripped)
    if fence is not None:
        out.block("code", list(code))
    flush()
    return Document(article_id, title or _title_from_id(article_id), source, out.result())


def _looks_like_heading(para: list[str]) -> bool:
    """A lone short line without end punctuation ("Before You Start") reads as a heading."""
    if len(para) != 1 or _LIST_ITEM.match(para[0]):
        return False
    line = para[0].strip()
    return 0 < len(line.split()) <= _TEXT_HEADING_WORDS and line[-1] not in ".!?,;:)\"'"


def parse_text(text: str, article_id: str, source: str) -> Document:
    """A plain-text article: the first non-empty line is the title, blank lines end
    paragraphs, and a lone short line without end punctuation starts a section."""
    lines = text.splitlines()
    title = ""
    while lines and not title:
        title = _clean(lines.pop(0))
    out = _SectionBuilder()
    para: list[str] = []

    def flush() -> None:
        if _looks_like_heading(para):
            out.heading(2, _clean(para[0]))
        elif para and all(_LIST_ITEM.match(line) for line in para):
            out.block("list", [_clean(line) for line in para])
        elif para:
            out.block("text", [_clean(" ".join(para))])
        para.clear()

    for line in lines:
        if line.strip():
            para.append(line)
        else:
            flush()
    flush()
    return Document(article_id, title or _title_from_id(article_id), source, out.result())


class _HTMLArticle(HTMLParser):
    """Collects the title, headings, paragraphs, lists and tables of an HTML page."""

    _SKIP = {"script", "style", "noscript", "template", "svg", "nav"}
    _BREAKS = {
        "p",
        "div",
        "section",
        "article",
        "main",
        "blockquote",
        "dt",
        "dd",
        "br",
        "hr",
        "body",
        "header",
        "footer",
        "aside",
        "figure",
        "figcaption",
        "form",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = _SectionBuilder()
        self.title_tag = ""
        self.first_h1 = ""
        self.skip = 0
        self.in_title = False
        self.heading_level = 0
        self.heading_text: list[str] = []
        self.text: list[str] = []
        self.items: list[str] = []
        self.in_li = False
        # open lists, innermost last: [tag, items numbered so far]; an <ol>'s items keep
        # their numbers ("1. ...") so steps read as steps and "see step 5" still makes sense
        self.lists: list[list] = []
        self.li_marker = "- "  # what starts the current item's first piece of text
        self.pre = 0
        self.rows: list[list[str]] = []
        self.header_row = False
        self.cell: list[str] | None = None
        self.row: list[str] | None = None
        self.table_depth = 0

    def _flush_text(self) -> None:
        text = "".join(self.text)
        self.text.clear()
        if self.pre:
            self.out.block("code", text.strip("\n").splitlines())
        elif self.in_li:
            if _clean(text):
                self.items.append(self.li_marker + _clean(text))
                self.li_marker = "- "  # later pieces of one item: as before, bullets
        elif _clean(text):
            self.out.block("text", [_clean(text)])

    def _flush_items(self) -> None:
        self._flush_text()
        self.out.block("list", list(self.items))
        self.items.clear()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self._SKIP:
            self.skip += 1
            return
        if tag == "title":
            self.in_title = True
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._flush_text()
            self.heading_level = int(tag[1])
            self.heading_text = []
        elif tag == "table":
            self._flush_text()
            self.table_depth += 1
            if self.table_depth == 1:
                self.rows, self.header_row = [], False
        elif tag == "tr" and self.table_depth:
            self.row = []
        elif tag in ("td", "th") and self.table_depth:
            self.cell = []
            if tag == "th" and not self.rows:
                self.header_row = True
        elif tag in ("ul", "ol"):
            self._flush_text()
            self.lists.append([tag, 0])
        elif tag == "li":
            self._flush_text()
            self.in_li = True
            self.li_marker = "- "
            if self.lists and self.lists[-1][0] == "ol":
                self.lists[-1][1] += 1
                self.li_marker = f"{self.lists[-1][1]}. "
        elif tag == "pre":
            self._flush_text()
            self.pre += 1
        elif tag in self._BREAKS:
            self._flush_text()

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if tag == "title":
            self.in_title = False
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6") and self.heading_level:
            text = _clean("".join(self.heading_text))
            level, self.heading_level = self.heading_level, 0
            if not text:
                return
            if level == 1 and not self.first_h1:  # the page title, not a section
                self.first_h1 = text
                return
            self.out.heading(level, text)
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(_clean("".join(self.cell)).replace("|", "/"))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if any(self.row):
                self.rows.append(self.row)
            self.row = None
        elif tag == "table" and self.table_depth:
            self.table_depth -= 1
            if self.table_depth == 0 and self.rows:
                lines = ["| " + " | ".join(row) + " |" for row in self.rows]
                if self.header_row:
                    lines.insert(1, "|" + " --- |" * len(self.rows[0]))
                self.out.block("table", lines)
        elif tag == "li":
            self._flush_text()
            self.in_li = False
        elif tag in ("ul", "ol"):
            self._flush_items()
            if self.lists:
                self.lists.pop()
        elif tag == "pre":
            self._flush_text()
            self.pre = max(0, self.pre - 1)
        elif tag in self._BREAKS:
            self._flush_text()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.in_title:
            self.title_tag = _clean(self.title_tag + " " + data)
        elif self.heading_level:
            self.heading_text.append(data)
        elif self.cell is not None:
            self.cell.append(data)
        elif not self.table_depth:
            self.text.append(data)

    def close(self) -> None:
        super().close()
        self._flush_items()


def parse_html(text: str, article_id: str, source: str) -> Document:
    """An HTML page: title from <title> (else the first <h1>), <h1>-<h6> start sections."""
    parser = _HTMLArticle()
    parser.feed(text)
    parser.close()
    title = parser.title_tag or parser.first_h1 or _title_from_id(article_id)
    return Document(article_id, title, source, parser.out.result())


def parse_json(
    text: str, file_id: str, source: str, lines: bool
) -> tuple[list[Document], list[Skipped]]:
    """Records with `title` and `body` (Markdown or plain text) and an optional `id`.

    A .json file holds one record, a list of records or {"articles": [...]}; a .jsonl file
    one record a line. A record without `id` gets "<file id>#<n>" (n counts from 1).
    """
    records: list[tuple[str, object]] = []  # (where, record)
    if lines:
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((f"line {lineno}", json.loads(line)))
            except json.JSONDecodeError as exc:
                return [], [Skipped(source, f"invalid JSON on line {lineno}: {exc.msg}")]
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return [], [Skipped(source, f"invalid JSON at line {exc.lineno}: {exc.msg}")]
        if isinstance(data, dict) and isinstance(data.get("articles"), list):
            data = data["articles"]
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            return [], [Skipped(source, "JSON is neither a record nor a list of records")]
        records = [(f"record {i}", record) for i, record in enumerate(data, start=1)]
    docs: list[Document] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    for n, (where, record) in enumerate(records, start=1):
        if not isinstance(record, dict):
            skipped.append(Skipped(f"{source} ({where})", "not a JSON object"))
            continue
        title, body = record.get("title"), record.get("body")
        if not isinstance(title, str) or not title.strip():
            skipped.append(Skipped(f"{source} ({where})", "no string 'title'"))
            continue
        if not isinstance(body, str) or not body.strip():
            skipped.append(Skipped(f"{source} ({where})", "no string 'body'"))
            continue
        raw_id = record.get("id")
        if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
            article_id = f"{file_id}#{n}"
        elif isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool):
            article_id = str(raw_id).strip()
        else:
            skipped.append(Skipped(f"{source} ({where})", f"'id' must be a string, got {raw_id!r}"))
            continue
        if article_id in seen:
            skipped.append(Skipped(f"{source} ({where})", f"duplicate id {article_id!r}"))
            continue
        seen.add(article_id)
        docs.append(parse_markdown(body, article_id, source, title=_clean(title)))
    if not docs and not skipped:
        skipped.append(Skipped(source, "no records"))
    return docs, skipped


__all__ = [
    "Block",
    "Section",
    "Document",
    "Skipped",
    "SourceFile",
    "SUPPORTED_SUFFIXES",
    "scan_folder",
    "decode_text",
    "parse_file",
    "parse_markdown",
    "parse_text",
    "parse_html",
    "parse_json",
]
