"""The response bank: curated reply templates, their provenance and precomputed embeddings.

Saved beside a ranker (`ResponseBank.save`) and read back at run time (`ResponseBank.load`),
which also applies the company's current review decisions (`assistant.review`).

Each entry says what it may be used for (`kind`, see `assistant.curation`): the bot sends
`safe` entries and `needs_slots` entries whose slots this conversation fills; `agent_only`
entries are suggestions for human agents (`BankEntry.agent_only`). `ResponseBank.candidates`
ranks the entries for a context and marks which of them the bot may send: filled, grounded
(`assistant.grounding`) and not agent-only or barred.

Format history of `bank.jsonl` (the ranker manifest's `bank` entry records the version):
    1  {"text", "count", "intents"}
    2  adds "id", "kind", "reasons", "conversations", "agents", "examples", "status",
       "original"; version 1 rows still load (kind classified on load, provenance unknown)
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from assistant.curation import KINDS, classify, constants, for_chat
from assistant.errors import ModelError
from assistant.grounding import Grounds, Specific, specifics
from assistant.placeholders import fill_for_agent, fill_strict
from assistant.reply import Candidate
from assistant.review import ALL_STATUSES, Reviews, entry_id, reviews_path
from kb.jsonl import read_jsonl
from kb.manifest import KINDS as ARTIFACT_KINDS
from kb.manifest import MANIFEST_FILE, read_manifest, unreadable_message, verify_files

BANK_FORMAT = 2  # version of the bank.jsonl rows (see the module docstring)
EXAMPLES = 5  # conversation ids kept per entry (a sample: `conversations` counts them all)
# For a bank of format 1: a specific counts as a company constant when the replies stating it
# were used this many times (no conversation counts then; see `curation.constants`).
LEGACY_CONSTANT_USES = 10


@dataclass
class BankEntry:
    text: str  # reply template with placeholders such as {name} or {order_number}
    count: int  # times agents used it in the training history
    intents: dict[str, int] = field(default_factory=dict)  # intents it answered, with counts
    kind: str = ""  # "safe" | "needs_slots" | "agent_only"; "" = classify it now
    reasons: list[str] = field(default_factory=list)  # why it is of its kind (for review)
    conversations: int = 0  # distinct conversations it was used in (0: not recorded)
    agents: int | None = None  # distinct agents who used it (None: the history names none)
    examples: list[str] = field(default_factory=list)  # up to EXAMPLES conversation ids
    status: str = "unreviewed"  # "unreviewed" | "approved" | "edited" | "barred"
    original: str = ""  # the mined text, when a reviewer's edit replaced it
    id: str = ""  # stable id: `review.entry_id` of the mined text

    def __post_init__(self) -> None:
        if not self.id:
            self.id = entry_id(self.original or self.text)
        if not self.kind:
            c = classify(self.original or self.text)
            self.kind, self.reasons = c.kind, c.reasons
        if self.kind not in KINDS:
            raise ValueError(f"kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.status not in ALL_STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {', '.join(ALL_STATUSES)}")

    @property
    def vouched(self) -> bool:
        """A reviewer approved (or wrote) this text: the company stands behind it."""
        return self.status in ("approved", "edited")

    @property
    def agent_only(self) -> bool:
        """Only a human agent may send it (a suggestion in the triage console)."""
        return self.status == "barred" or (self.kind == "agent_only" and not self.vouched)

    @agent_only.setter
    def agent_only(self, value: bool) -> None:
        """Mark the entry agent-only (its kind), or not (an agent-only entry becomes safe)."""
        if value:
            self.kind = "agent_only"
        elif self.kind == "agent_only":
            self.kind = "safe"

    def to_json(self) -> dict:
        """The `bank.jsonl` row."""
        return asdict(self)


ENTRIES_FILE = "bank.jsonl"
EMBEDDINGS_FILE = "bank_embeddings.npy"


class ResponseBank:
    """Kept in a ranker directory: `bank.jsonl` and `bank_embeddings.npy` (N, H)."""

    def __init__(self, entries: list[BankEntry], embeddings: np.ndarray) -> None:
        """`embeddings[i]` is entry i as the ranker embeds replies (`encode_replies`)."""
        if len(embeddings) != len(entries):
            raise ModelError(f"{len(embeddings)} bank embeddings for {len(entries)} entries.")
        self.entries = entries
        self.embeddings = embeddings
        self.reviews_file: Path | None = None  # the review file applied at load, if any
        self._cache: dict[int, tuple[str, list[Specific]]] = {}  # entry -> (text, specifics)

    @classmethod
    def embed(cls, entries: list[BankEntry], ranker) -> ResponseBank:
        """A bank whose embeddings are the ranker's (`ResponseRanker.encode_replies`)."""
        return cls(entries, ranker.encode_replies([e.text for e in entries]))

    def manifest(self) -> dict:
        """What the ranker manifest records about the bank (its `bank` entry)."""
        return {
            "format_version": BANK_FORMAT,
            "entries": len(self.entries),
            "kinds": dict(Counter(e.kind for e in self.entries)),
            "statuses": dict(Counter(e.status for e in self.entries)),
        }

    def save(self, model_dir: str | Path) -> None:
        """Write `bank.jsonl` and `bank_embeddings.npy` into `model_dir` for `load`."""
        path = Path(model_dir)
        path.mkdir(parents=True, exist_ok=True)
        with open(path / ENTRIES_FILE, "w") as fh:
            for e in self.entries:
                fh.write(json.dumps(e.to_json(), ensure_ascii=False))
                fh.write("\n")
        np.save(
            path / EMBEDDINGS_FILE,
            np.asarray(self.embeddings, dtype=np.float32),
            allow_pickle=False,
        )

    @classmethod
    def load(cls, model_dir: str | Path, reviews: str | Path | bool | None = None) -> ResponseBank:
        """Read the bank of the ranker directory `model_dir`; ModelError naming the damaged
        file and the command that rebuilds it (retraining the ranker).

        `reviews`: the review file to apply (`assistant.review`); None: the one found beside
        the models (`review.reviews_path`), if any; False: none."""
        path = Path(model_dir)
        fix = ARTIFACT_KINDS["ranker"].fix.format(dir=path)
        jf, ef = path / ENTRIES_FILE, path / EMBEDDINGS_FILE
        if (path / MANIFEST_FILE).is_file():  # a bank saved alone has no manifest
            # sizes and sha256 recorded at training, when the manifest has them
            manifest = read_manifest(path, "ranker")
            verify_files(path, manifest, "ranker", (ENTRIES_FILE, EMBEDDINGS_FILE))
            version = (manifest.get("bank") or {}).get("format_version", 1)
            if isinstance(version, int) and version > BANK_FORMAT:
                raise ModelError(
                    f"{jf}: bank format version {version} is newer than this program reads "
                    f"({BANK_FORMAT}): upgrade offline-assistant."
                )
        for f in (jf, ef):
            if not f.is_file():
                raise ModelError(f"{f}: missing response bank: {fix}.")
        for f in (jf, ef):
            try:
                f.open("rb").close()
            except PermissionError:
                raise ModelError(unreadable_message(f, path)) from None
        try:
            rows = read_jsonl(jf, ModelError, allow_empty=True)
        except ModelError as exc:  # names the file, line and value
            raise ModelError(f"{exc} The response bank is damaged: {fix}.") from None
        entries = _entries(rows, jf, fix)
        try:
            emb = np.load(ef, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise ModelError(f"{ef} is damaged ({exc}): {fix}.") from None
        if emb.ndim != 2 or emb.shape[0] != len(entries):
            raise ModelError(
                f"{ef} does not match {jf}: shape {emb.shape} for {len(entries)} bank entries "
                f"(expected ({len(entries)}, width)): {fix}."
            )
        bank = cls(entries, emb.astype(np.float32))
        if reviews is not False:
            file = reviews_path(path) if reviews in (None, True) else Path(reviews)
            if file.is_file():
                Reviews.load(file).apply(bank.entries)
                bank.reviews_file = file
        return bank

    def __len__(self) -> int:
        return len(self.entries)

    def _specifics(self, i: int) -> list[Specific]:
        """The specifics entry i's template states (its placeholders aside), worked out once
        per text: the candidate step checks them for every turn."""
        text = self.entries[i].text
        cached = self._cache.get(i)
        if cached is None or cached[0] != text:
            cached = self._cache[i] = (text, specifics(re.sub(r"\{[a-z_]+\}", " ", text)))
        return cached[1]

    def top(self, context_embedding: np.ndarray, k: int = 5) -> list[tuple[int, float]]:
        """Indices and cosine scores of the k best replies for a context embedding (H,)."""
        scores = self.embeddings @ context_embedding
        k = min(k, len(scores))
        if k <= 0:
            return []
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.argsort(-scores[idx])]
        return [(int(i), float(scores[i])) for i in idx]

    def candidates(
        self,
        context_embedding: np.ndarray,
        slots: dict[str, str],
        grounds: Grounds,
        n: int = 5,
        search: int = 50,
    ) -> list[Candidate]:
        """The best replies for a context: up to `n` the bot may send (best first), then up
        to `n` it may not, best first, as suggestions for a human agent (`sendable` False,
        `note` says why; their text shows unknown slots as "[order number]"). Barred entries
        are left out. The `search` best entries are looked at.

        A reply may be sent when it is not agent-only (or a reviewer vouched for it), every
        slot it needs is filled from `slots`, and every specific it states is held by
        `grounds` (this customer's messages, the KB), vouched-for text excepted."""
        sendable: list[Candidate] = []
        others: list[Candidate] = []
        for i, score in self.top(context_embedding, max(search, n)):
            if len(sendable) >= n and len(others) >= n:
                break
            e = self.entries[i]
            if e.status == "barred":
                continue
            filled = fill_strict(e.text, slots)
            note = ""
            if e.agent_only:
                note = "agent only: " + ("; ".join(e.reasons[:2]) or e.kind)
            elif filled is None:
                note = "a slot has no value in this conversation"
            else:
                # the slots' values come from the customer's own messages (`extract_slots`):
                # what needs grounding is what the template itself states
                said = [] if e.vouched else self._specifics(i)
                missing = [sp.surface for sp in said if not grounds.holds(sp)]
                if missing:
                    note = "not grounded here: " + ", ".join(missing[:3])
            c = Candidate(
                text=filled if filled is not None else fill_for_agent(e.text, slots),
                score=score,
                intents=list(e.intents)[:3],
                kind=e.kind,
                sendable=not note,
                note=note,
                entry_id=e.id,
            )
            if c.sendable and len(sendable) < n:
                sendable.append(c)
            elif not c.sendable and len(others) < n:
                others.append(c)
        return sendable + others


def _entries(rows, jf: Path, fix: str) -> list[BankEntry]:
    """Bank entries from `bank.jsonl` rows; rows of format 1 (no "kind") are classified here,
    with the company constants estimated from the whole bank."""
    raw = []
    for lineno, obj in rows:
        try:
            raw.append(
                (
                    lineno,
                    obj,
                    BankEntry(
                        str(obj["text"]),
                        int(obj["count"]),
                        dict(obj.get("intents", {})),
                        **{
                            k: obj[k]
                            for k in (
                                "kind",
                                "reasons",
                                "conversations",
                                "agents",
                                "examples",
                                "status",
                                "original",
                                "id",
                            )
                            if k in obj
                        },
                        **({} if "kind" in obj else {"kind": "safe"}),
                    ),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{jf}:{lineno}: bad bank entry ({exc!r}): {fix}.") from None
    legacy = [e for _, obj, e in raw if "kind" not in obj]
    if legacy:
        const = constants(((e.text, e.count) for _, _, e in raw), LEGACY_CONSTANT_USES)
        for e in legacy:
            e.text = for_chat(e.text)  # mined before replies were normalised for the chat
            c = classify(e.text, const)
            e.kind, e.reasons = c.kind, c.reasons
    return [e for _, _, e in raw]
