"""Splitting a `Document` into passages along headings, paragraphs and sentences.

Each section is packed greedily into passages of at most `max_words` words. The unit is a
sentence (of a paragraph or list item), a table row or a code line; a unit longer than the
limit is cut into windows of words. Consecutive passages of one section share their trailing
whole sentences up to `overlap_words` words. A table split across passages repeats its header
rows, so every passage shows a readable table.

>>> from kb.documents import parse_markdown
>>> doc = parse_markdown("# Fees\\n\\n## Late\\n\\nA fee applies. It is 5 EUR.", "fees", "fees.md")
>>> [(c.section, c.position, c.text) for c in chunk_document(doc, max_words=50)]
[('Late', 0, 'A fee applies. It is 5 EUR.')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.documents import Block, Document

# What is embedded with a passage's text, by name (`BuildConfig.embed_template`). The
# template string is recorded in the manifest: a change re-embeds every passage.
EMBED_TEMPLATES = {
    "title_section": "title\\nsection\\ntext",  # title and heading trail carry the topic
    "title": "title\\ntext",  # the heading trail left out (it can drown a short passage)
    "text": "text",  # the passage alone
}
EMBED_TEMPLATE = EMBED_TEMPLATES["title_section"]  # the template of builds before the choice

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")
_ITEM_NUMBER = re.compile(r"^\s*\d{1,3}[.)]$")  # a numbered list item's marker alone


@dataclass(frozen=True)
class Chunk:
    """A passage before embedding: where it comes from and its display text."""

    article_id: str
    title: str
    section: str  # heading trail below the title, "" before the first heading
    source: str  # path relative to the docs folder
    position: int  # 0-based order of the passage within its article
    text: str

    def embed_text(self, template: str = "title_section") -> str:
        """The text that is embedded: the passage with what `template` (a key of
        `EMBED_TEMPLATES`) puts before it."""
        return embedding_text(self.title, self.section, self.text, template)

    def keyword_text(self) -> str:
        """The text that is keyword-indexed: title, section and text, whatever the embedding
        template (a word of the heading is as good a keyword as one of the text)."""
        return embedding_text(self.title, self.section, self.text)


def embedding_text(title: str, section: str, text: str, template: str = "title_section") -> str:
    """Title and section heading prepended to a passage (they carry much of its topic), as
    `template` says.

    >>> embedding_text("Fees", "Late", "5 EUR.", "title")
    'Fees\\n5 EUR.'
    """
    if template not in EMBED_TEMPLATES:
        raise ValueError(
            f"unknown embedding template {template!r}: use one of {', '.join(EMBED_TEMPLATES)}"
        )
    parts = {"title_section": (title, section, text), "title": (title, text), "text": (text,)}
    return "\n".join(part for part in parts[template] if part)


@dataclass(frozen=True)
class _Unit:
    text: str
    words: int
    block: int  # index of the block in its section (units of one block join tightly)
    kind: str  # the block kind: text, list, table or code
    joiner: str = "\n"  # put before this unit when it follows a unit of the same block
    header: tuple[str, ...] = ()  # table header lines, shown where the table starts a passage


def _word_windows(text: str, max_words: int) -> list[str]:
    words = text.split()
    return [" ".join(words[i : i + max_words]) for i in range(0, len(words), max_words)]


def _sentences(text: str, max_words: int) -> list[str]:
    """The sentences of `text`, each at most `max_words` words (longer ones cut into
    windows). A list item's number stays with its first sentence.

    >>> _sentences("7. Refit the wheel. Tighten to 35 Nm.", 50)
    ['7. Refit the wheel.', 'Tighten to 35 Nm.']
    """
    out: list[str] = []
    pieces = _SENTENCE_END.split(text)
    if len(pieces) > 1 and _ITEM_NUMBER.match(pieces[0]):  # "7." is not a sentence
        pieces[:2] = [pieces[0] + " " + pieces[1]]
    for sentence in pieces:
        if len(sentence.split()) > max_words:
            out.extend(_word_windows(sentence, max_words))
        elif sentence.strip():
            out.append(sentence.strip())
    return out


def _units(block: Block, index: int, max_words: int) -> list[_Unit]:
    if block.kind == "text":
        pieces = [s for line in block.lines for s in _sentences(line, max_words)]
        return [_Unit(p, len(p.split()), index, "text", " ") for p in pieces]
    if block.kind == "list":
        units = []
        for item in block.lines:
            for n, piece in enumerate(_sentences(item, max_words)):
                units.append(_Unit(piece, len(piece.split()), index, "list", " " if n else "\n"))
        return units
    lines = list(block.lines)
    header: tuple[str, ...] = ()
    if block.kind == "table" and len(lines) >= 3 and _TABLE_SEPARATOR.match(lines[1]):
        header, lines = (lines[0], lines[1]), lines[2:]
    units = []
    for line in lines:
        for piece in _word_windows(line, max_words) if len(line.split()) > max_words else [line]:
            units.append(_Unit(piece, max(1, len(piece.split())), index, block.kind, "\n", header))
    return units


def _header_words(unit: _Unit) -> int:
    return sum(len(line.split()) for line in unit.header)


def _render(units: list[_Unit]) -> str:
    parts: list[str] = []
    previous: _Unit | None = None
    for unit in units:
        if previous is not None:
            if unit.block != previous.block:
                parts.append("\n\n")
            else:
                parts.append(unit.joiner)
        if unit.header and (previous is None or previous.block != unit.block):
            parts.append("\n".join(unit.header) + "\n")
        parts.append(unit.text)
        previous = unit
    return "".join(parts)


def _pack(units: list[_Unit], max_words: int, overlap_words: int) -> list[str]:
    passages: list[str] = []
    current: list[_Unit] = []
    size = 0

    def cost(unit: _Unit, before: list[_Unit]) -> int:
        starts_block = not before or before[-1].block != unit.block
        return unit.words + (_header_words(unit) if starts_block else 0)

    for unit in units:
        if current and size + cost(unit, current) > max_words:
            passages.append(_render(current))
            carry: list[_Unit] = []
            carried = 0
            for previous in reversed(current):
                if previous.kind not in ("text", "list"):
                    break
                if carried + previous.words > overlap_words:
                    break
                carry.insert(0, previous)
                carried += previous.words
            while carry and carried + cost(unit, carry) > max_words:
                carried -= carry.pop(0).words
            current, size = carry, carried
        size += cost(unit, current)
        current.append(unit)
    if current:
        passages.append(_render(current))
    return passages


def chunk_document(
    doc: Document, max_words: int = 100, overlap_words: int = 20, pack_blocks: bool = True
) -> list[Chunk]:
    """The passages of one article, in reading order, numbered by `position`.

    With `pack_blocks` a passage takes consecutive blocks (paragraphs, lists, tables) of a
    section while they fit; without it every block starts a passage of its own, so a
    paragraph is never diluted by its neighbours.
    """
    chunks: list[Chunk] = []
    for section in doc.sections:
        units = [u for i, block in enumerate(section.blocks) for u in _units(block, i, max_words)]
        groups = [units] if pack_blocks else _by_block(units)
        texts = [text for group in groups for text in _pack(group, max_words, overlap_words)]
        for text in texts:
            chunks.append(
                Chunk(doc.article_id, doc.title, section.heading, doc.source, len(chunks), text)
            )
    return chunks


def _by_block(units: list[_Unit]) -> list[list[_Unit]]:
    groups: list[list[_Unit]] = []
    for unit in units:
        if not groups or groups[-1][-1].block != unit.block:
            groups.append([])
        groups[-1].append(unit)
    return groups


__all__ = ["Chunk", "chunk_document", "embedding_text", "EMBED_TEMPLATE", "EMBED_TEMPLATES"]
