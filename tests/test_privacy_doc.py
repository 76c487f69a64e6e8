"""docs/privacy.md says what is and is not redacted; this keeps it true.

Every example in the "Redacted" table is replaced by its row's placeholder and nothing else, and
every example in the "Not redacted" table is kept as written. A detector change that breaks a
documented promise fails here, and so does a doc row nobody checked.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from assistant.redact import PLACEHOLDERS, RedactionConfig, redact

DOC = Path(__file__).parents[1] / "docs" / "privacy.md"


def table(section: str) -> list[list[str]]:
    """The body rows of the first table under the `## section` heading, as cells."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {section}\n")
    rows = []
    for line in text[start:].splitlines()[2:]:  # after the blank line and the heading
        if line.startswith("## "):
            break
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
        elif rows:
            break
    return rows[2:]  # header and |---| rule


def code_spans(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


REDACTED = [
    (code_spans(kind)[0], code_spans(placeholder)[0], example)
    for kind, placeholder, _, examples in table("Redacted")
    for example in code_spans(examples)
]
KEPT = [example for _, examples, _ in table("Not redacted") for example in code_spans(examples)]


def test_the_doc_lists_every_kind_with_its_placeholder():
    rows = {kind: placeholder for kind, placeholder, _ in REDACTED}
    assert rows == PLACEHOLDERS
    assert len(REDACTED) >= 30 and len(KEPT) >= 30  # the tables were read, not skipped


def test_the_doc_names_every_config_field():
    text = DOC.read_text(encoding="utf-8")
    for f in fields(RedactionConfig):
        assert f"`{f.name}`" in text, f.name


@pytest.mark.parametrize(("kind", "placeholder", "example"), REDACTED)
def test_each_documented_example_is_redacted(kind, placeholder, example):
    assert redact(f"see {example} now") == (f"see {placeholder} now", [kind])


@pytest.mark.parametrize("example", KEPT)
def test_each_documented_non_example_is_kept(example):
    assert redact(example) == (example, [])
    assert redact(f"see {example} now") == (f"see {example} now", [])
