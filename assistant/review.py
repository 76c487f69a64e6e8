"""A company's review of its reply bank: approve, edit or bar entries; kept across retraining.

Decisions live in one file in the models directory, `bank_reviews.json` (beside `intent/`
and `ranker/`, so retraining the ranker does not replace it), keyed by the entry's id: a
stable hash of its normalised mined text (`entry_id`). Training applies them to the new bank
(`training.bank.build_bank`), and `ResponseBank.load` applies the file as it is now, so a
decision counts from the next conversation without retraining.

    approved  the company stands behind sending this reply as it is: the bot may send it even
              when the rules sorted it agent_only, its own specifics count as vouched for
              (slots must still be filled, and filled values still come from the customer)
    edited    as approved, with the reviewer's text (re-embedded at the next training; until
              then it is ranked by the mined text's embedding)
    barred    never sent, never suggested

The CSV round trip (`export_csv` / `import_csv`) is for spreadsheets: one row per entry with
its id, kind, status, text, uses, conversations and example conversation ids; a reviewer
changes `status` (and `text`) and imports it back. Rows left `unreviewed` with their text
unchanged change nothing.

    >>> entry_id("Hi,\\n\\nCould you share the order number?") == entry_id(
    ...     "could you share the   order number?")
    True
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from assistant.curation import for_chat
from assistant.errors import ConfigError, DataError
from assistant.placeholders import PLACEHOLDERS
from kb.manifest import write_json_atomic

REVIEWS_FILE = "bank_reviews.json"
REVIEWS_KIND = "bank-reviews"
REVIEWS_FORMAT = 1
STATUSES = ("approved", "edited", "barred")  # decisions a reviewer records
ALL_STATUSES = ("unreviewed", *STATUSES)  # what an entry's `status` may be
CSV_COLUMNS = ("id", "kind", "status", "text", "uses", "conversations", "examples", "reasons")


def entry_id(text: str) -> str:
    """A bank entry's stable id: 12 hex digits of the sha256 of its text, normalised for the
    chat (salutation and sign-off removed), whitespace collapsed and case-folded."""
    key = re.sub(r"\s+", " ", for_chat(text)).strip().casefold()
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


@dataclass
class Review:
    """One reviewer's decision on one bank entry."""

    id: str  # the entry's `entry_id`
    status: str  # one of STATUSES
    text: str = ""  # the reviewer's text for "edited"; "" otherwise
    original: str = ""  # the entry's mined text when the decision was made (for people)
    by: str = ""  # who decided
    at: str = ""  # when (ISO-8601 UTC)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ConfigError(
                f"review of {self.id}: status {self.status!r} is not one of {', '.join(STATUSES)}."
            )
        if self.status == "edited":
            check_text(self.text, f"review of {self.id}")


def check_text(text: str, where: str) -> str:
    """`text` as a reviewer's reply text, or ConfigError naming `where` and the problem."""
    if not text.strip():
        raise ConfigError(f"{where}: the edited text is empty; give the reply to send.")
    unknown = sorted(set(re.findall(r"\{[^{}]*\}", text)) - set(PLACEHOLDERS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown placeholder {unknown[0]!r} in {text!r}; use only "
            f"{', '.join(PLACEHOLDERS)}."
        )
    return text.strip()


def reviews_path(ranker_dir: str | Path, root: str | Path | None = None) -> Path:
    """The review file for the ranker directory `ranker_dir`: the first `bank_reviews.json`
    in its parent, grandparent or great-grandparent (a models directory holds `ranker/`, a
    versioned one `versions/N/ranker/`), else the one the models directory `root` would hold
    (default: the ranker's parent)."""
    ranker_dir = Path(ranker_dir).expanduser().absolute()
    for up in list(ranker_dir.parents)[:3]:
        if (up / REVIEWS_FILE).is_file():
            return up / REVIEWS_FILE
    return Path(root).expanduser() / REVIEWS_FILE if root else ranker_dir.parent / REVIEWS_FILE


@dataclass
class Reviews:
    """The decisions of one review file, by entry id."""

    path: Path | None = None  # where they are kept (None: in memory only)
    decisions: dict[str, Review] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> Reviews:
        """Read a review file; a missing file is an empty review. DataError names the file
        and what is wrong with it."""
        path = Path(path)
        if not path.is_file():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{path} cannot be read ({exc}).") from None
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{path}:{exc.lineno}: invalid JSON ({exc.msg}). Fix the file, or move it away "
                "to start the review again."
            ) from None
        if not isinstance(data, dict) or data.get("kind") != REVIEWS_KIND:
            raise DataError(f'{path}: not a bank review file (no "kind": "{REVIEWS_KIND}").')
        if data.get("format_version", 0) > REVIEWS_FORMAT:
            raise DataError(
                f"{path}: format version {data.get('format_version')} is newer than this "
                f"program reads ({REVIEWS_FORMAT}): upgrade offline-assistant."
            )
        out = cls(path)
        for i, row in enumerate(data.get("reviews", [])):
            try:
                review = Review(**row)
            except (TypeError, ConfigError) as exc:
                raise DataError(f"{path}: review {i} ({row!r}) is not valid: {exc}") from None
            out.decisions[review.id] = review
        return out

    def save(self) -> None:
        """Write the file atomically (a reader sees the old file or the new one)."""
        if self.path is None:
            raise ConfigError("these reviews have no file to be saved to")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(
            self.path,
            {
                "kind": REVIEWS_KIND,
                "format_version": REVIEWS_FORMAT,
                "reviews": [asdict(r) for r in sorted(self.decisions.values(), key=_by_id)],
            },
        )

    def decide(self, entry, status: str, text: str = "", by: str | None = None) -> Review:
        """Record `status` ("approved", "edited", "barred", or "unreviewed" to forget the
        decision) for the bank entry `entry`; returns the review (None when forgotten)."""
        if status == "unreviewed":
            self.decisions.pop(entry.id, None)
            return None
        review = Review(
            entry.id,
            status,
            check_text(text, f"entry {entry.id}") if status == "edited" else "",
            entry.original or entry.text,
            by if by is not None else _user(),
            datetime.now(UTC).isoformat(timespec="seconds"),
        )
        self.decisions[entry.id] = review
        return review

    def apply(self, entries: list) -> int:
        """Set the status (and edited text) of the `entries` this file has a decision on;
        entries whose decision was withdrawn go back to their mined text. Returns how many
        entries have a decision."""
        n = 0
        for e in entries:
            r = self.decisions.get(e.id)
            if e.original and (r is None or r.status != "edited"):
                e.text, e.original = e.original, ""
            if r is None:
                e.status = "unreviewed"
                continue
            n += 1
            e.status = r.status
            if r.status == "edited" and r.text != e.text:
                e.original = e.original or e.text
                e.text = r.text
        return n


def _by_id(r: Review) -> str:
    return r.id


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        return ""


# -- the CSV round trip -------------------------------------------------------------------------


def export_csv(entries: list, path: str | Path) -> int:
    """Write one CSV row per bank entry (`CSV_COLUMNS`); returns the number of rows."""
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for e in entries:
            w.writerow(
                [
                    e.id,
                    e.kind,
                    e.status,
                    e.text,
                    e.count,
                    e.conversations,
                    " ".join(e.examples),
                    "; ".join(e.reasons),
                ]
            )
    return len(entries)


@dataclass
class Change:
    """A decision read from a CSV row."""

    line: int  # where it was read
    entry: object  # the bank entry it is about
    status: str  # one of ALL_STATUSES
    text: str = ""  # the edited text, for "edited"


def read_csv(path: str | Path, entries: list) -> list[Change]:
    """The decisions a reviewed CSV holds for `entries` (rows that change nothing are left
    out). Every problem is a DataError naming `file:line` and the fix; nothing is applied
    unless the whole file is valid."""
    path = Path(path)
    by_id = {e.id: e for e in entries}
    try:
        fh = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(f"{path} cannot be read ({exc.strerror or exc}).") from None
    changes: list[Change] = []
    seen: dict[str, int] = {}
    with fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in ("id", "status", "text") if c not in header]
        if missing:
            raise DataError(
                f"{path}:1: missing column(s) {', '.join(missing)} (found: "
                f"{', '.join(header) or 'nothing'}). Start from `assistant bank export-csv`."
            )
        try:
            for row in reader:
                line = reader.line_num
                where = f"{path}:{line}"
                eid = (row.get("id") or "").strip()
                status = (row.get("status") or "").strip().lower() or "unreviewed"
                text = row.get("text") or ""
                if eid not in by_id:
                    raise DataError(
                        f"{where}: id {eid!r} is not in this bank (it may come from another "
                        "models directory, or the bank was retrained with other data). "
                        "Export the CSV again from this bank."
                    )
                if eid in seen:
                    raise DataError(f"{where}: id {eid} appears twice (first on line {seen[eid]}).")
                seen[eid] = line
                if status not in ALL_STATUSES:
                    raise DataError(
                        f"{where}: status {status!r} is not one of {', '.join(ALL_STATUSES)}."
                    )
                e = by_id[eid]
                mined = (e.original or e.text).strip()
                text = text.strip()
                if status == "barred" and text not in (mined, e.text.strip()):
                    raise DataError(
                        f"{where}: entry {eid} is barred and its text was changed; keep the "
                        "text as it was, or set the status to edited."
                    )
                if status != "barred":
                    # the text decides: the mined one is approved (or unreviewed), another is
                    # an edit, whatever the status column says
                    if text != mined:
                        status = "edited"
                    elif status == "edited":
                        status = "approved"
                if status == "edited":
                    try:
                        text = check_text(text, where)
                    except ConfigError as exc:
                        raise DataError(str(exc)) from None
                if status == e.status and (status != "edited" or text == e.text.strip()):
                    continue
                changes.append(Change(line, e, status, text if status == "edited" else ""))
        except csv.Error as exc:
            raise DataError(f"{path}:{reader.line_num}: not valid CSV ({exc}).") from None
    return changes


__all__ = [
    "ALL_STATUSES",
    "CSV_COLUMNS",
    "REVIEWS_FILE",
    "STATUSES",
    "Change",
    "Review",
    "Reviews",
    "check_text",
    "entry_id",
    "export_csv",
    "read_csv",
    "reviews_path",
]
