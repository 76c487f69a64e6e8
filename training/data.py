"""Reading and validating training data: intent CSV files and dialogue JSONL files.

Every problem is reported as a `DataError` naming the file, the line, the bad value and
what to do, before anything is trained or written.

Formats:

    intents.csv                      dialogues.jsonl (one conversation per line)
    text,label                       {"id": "c1", "turns": [
    where is my parcel,order_status     {"role": "customer", "text": "hi, where is my parcel?",
    what's the weather,oos               "intent": "order_status"},
                                        {"role": "agent", "text": "Which order?"}]}
"""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import DataError
from kb.jsonl import parse_jsonl, read_text

ROLES = ("customer", "agent")


@dataclass(frozen=True)
class IntentExample:
    """One labelled customer message."""

    text: str
    label: str
    source: str = ""  # "file:line" it came from, for error messages
    group: str = ""  # dialogue id for dialogue data (splits keep a dialogue together)


@dataclass
class Turn:
    role: str  # "customer" | "agent"
    text: str
    intent: str | None = None


@dataclass
class Dialogue:
    id: str
    turns: list[Turn]
    metadata: dict = field(default_factory=dict)


def fingerprint(path: str | Path) -> str:
    """sha256 of a file's bytes, recorded in model manifests."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_text(path: Path) -> str:
    text = read_text(path, DataError, allow_empty=True)
    if not text.strip():
        raise DataError(f"{path}: the file is empty. Add examples (see README, 'Data formats').")
    nul = text.find("\x00")
    if nul >= 0:
        raise DataError(
            f"{path}:{text.count(chr(10), 0, nul) + 1}: contains a NUL byte (\\x00), which is "
            "never part of a message. Remove it (the file may be binary or UTF-16)."
        )
    return text


def load_dialogues(path: str | Path) -> list[Dialogue]:
    """Read and validate a dialogues JSONL file (one conversation per line).

    >>> # {"id": "c1", "turns": [{"role": "customer", "text": "hi"}]}  ->  [Dialogue(id="c1", ...)]
    """
    path = Path(path)
    text = _read_text(path)
    dialogues: list[Dialogue] = []
    seen: dict[str, int] = {}
    for lineno, obj in parse_jsonl(text, path, DataError):
        where = f"{path}:{lineno}"
        if not isinstance(obj, dict):
            raise DataError(f"{where}: expected a JSON object, got {type(obj).__name__}.")
        did = obj.get("id")
        if not isinstance(did, str) or not did:
            raise DataError(
                f'{where}: missing or non-string "id" (got {did!r}). Give every dialogue an id.'
            )
        if did in seen:
            raise DataError(f"{where}: duplicate dialogue id {did!r} (first on line {seen[did]}).")
        seen[did] = lineno
        turns_raw = obj.get("turns")
        if not isinstance(turns_raw, list) or not turns_raw:
            raise DataError(f'{where}: dialogue {did!r} needs a non-empty "turns" list.')
        turns = []
        for i, t in enumerate(turns_raw):
            if not isinstance(t, dict):
                raise DataError(f"{where}: turn {i} of {did!r} is not an object: {t!r}.")
            role, ttext, intent = t.get("role"), t.get("text"), t.get("intent")
            if role not in ROLES:
                raise DataError(
                    f'{where}: turn {i} of {did!r} has role {role!r}; use "customer" or "agent".'
                )
            if not isinstance(ttext, str) or not ttext.strip():
                raise DataError(f'{where}: turn {i} of {did!r} has an empty or missing "text".')
            if intent is not None and (not isinstance(intent, str) or not intent.strip()):
                raise DataError(f'{where}: turn {i} of {did!r} has a bad "intent" {intent!r}.')
            if "\x00" in ttext or (intent and "\x00" in intent):
                raise DataError(
                    f"{where}: turn {i} of {did!r} contains a NUL character (\\u0000), which "
                    "is never part of a message. Remove it."
                )
            turns.append(Turn(role=role, text=ttext.strip(), intent=intent))
        meta = {k: v for k, v in obj.items() if k not in ("id", "turns")}
        dialogues.append(Dialogue(id=did, turns=turns, metadata=meta))
    if not dialogues:
        raise DataError(f"{path}: no dialogues found.")
    return dialogues


def _load_csv(path: Path, text_column: str, label_column: str) -> list[IntentExample]:
    text = _read_text(path)
    reader = csv.reader(text.splitlines())
    try:
        header = next(reader)
    except StopIteration:  # pragma: no cover - _read_text rejects empty files
        raise DataError(f"{path}: the file is empty.") from None
    header = [h.strip() for h in header]
    for col, opt in ((text_column, "--text-column"), (label_column, "--label-column")):
        if col not in header:
            raise DataError(
                f"{path}:1: no column {col!r} in the header {header}. "
                f"Add it, or name the right column with {opt}."
            )
    ti, li = header.index(text_column), header.index(label_column)
    out = []
    for lineno, row in enumerate(reader, start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise DataError(
                f"{path}:{lineno}: expected {len(header)} fields, found {len(row)}: {row!r}. "
                "Quote texts that contain commas."
            )
        t, lab = row[ti].strip(), row[li].strip()
        if not t:
            raise DataError(f"{path}:{lineno}: empty text. Remove the line or fill it in.")
        if not lab:
            raise DataError(f"{path}:{lineno}: empty label for text {t[:60]!r}.")
        out.append(IntentExample(text=t, label=lab, source=f"{path}:{lineno}"))
    return out


def intent_examples_from_dialogues(
    dialogues: list[Dialogue], source: str = ""
) -> list[IntentExample]:
    """Customer turns that carry an `intent` become intent examples, grouped by dialogue.

    >>> d = Dialogue("c1", [Turn("customer", "refund?", "refund_status"), Turn("agent", "Sure.")])
    >>> intent_examples_from_dialogues([d])[0].label
    'refund_status'
    """
    return [
        IntentExample(text=t.text, label=t.intent, source=f"{source}#{d.id}", group=d.id)
        for d in dialogues
        for t in d.turns
        if t.role == "customer" and t.intent
    ]


def load_intent_examples(
    path: str | Path, text_column: str = "text", label_column: str = "label"
) -> list[IntentExample]:
    """Intent examples from a CSV file or a dialogues JSONL file (by extension)."""
    path = Path(path)
    if path.suffix.lower() in (".jsonl", ".json"):
        examples = intent_examples_from_dialogues(load_dialogues(path), source=str(path))
    else:
        examples = _load_csv(path, text_column, label_column)
    if not examples:
        raise DataError(f'{path}: no labelled examples found (customer turns need an "intent").')
    return examples


def find_conflicts(examples: list[IntentExample]) -> list[str]:
    """Identical texts (case- and space-insensitive) given different labels, as messages."""
    by_text: dict[str, dict[str, str]] = defaultdict(dict)
    for ex in examples:
        key = " ".join(ex.text.lower().split())
        by_text[key].setdefault(ex.label, ex.source)
    return [
        f"{text!r} is labelled " + ", ".join(f"{lab!r} ({src})" for lab, src in labels.items())
        for text, labels in by_text.items()
        if len(labels) > 1
    ]


def validate_intent_examples(
    examples: list[IntentExample], path: str | Path, oos_label: str = "oos"
) -> list[str]:
    """Check a training set; raise DataError for fatal problems, return warnings.

    Fatal: fewer than two in-scope classes; conflicting labels on identical texts.
    Warnings: classes with fewer than 5 examples.
    """
    counts: dict[str, int] = defaultdict(int)
    for ex in examples:
        counts[ex.label] += 1
    in_scope = [lab for lab in counts if lab != oos_label]
    if len(in_scope) < 2:
        raise DataError(
            f"{path}: found {len(in_scope)} in-scope intent(s) {sorted(in_scope)}; "
            "a classifier needs at least two. Add examples of other intents."
        )
    conflicts = find_conflicts(examples)
    if conflicts:
        shown = "\n  ".join(conflicts[:10])
        more = f"\n  ... and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
        raise DataError(
            f"{path}: {len(conflicts)} text(s) have conflicting labels:\n  {shown}{more}\n"
            "Give each text one label (or remove the duplicates)."
        )
    return [
        f"intent {lab!r} has only {n} example(s); aim for at least 10"
        for lab, n in sorted(counts.items())
        if n < 5
    ]
