"""The response bank: templates, their usage, their precomputed embeddings.

Saved beside a ranker (`ResponseBank.save`) and read back at run time (`ResponseBank.load`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.errors import ModelError
from kb.jsonl import read_jsonl
from kb.manifest import KINDS, MANIFEST_FILE, read_manifest, unreadable_message, verify_files


@dataclass
class BankEntry:
    text: str  # reply template with placeholders such as {name} or {order_number}
    count: int  # times agents used it in the training history
    intents: dict[str, int] = field(default_factory=dict)  # intents it answered, with counts


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

    @classmethod
    def embed(cls, entries: list[BankEntry], ranker) -> ResponseBank:
        """A bank whose embeddings are the ranker's (`ResponseRanker.encode_replies`)."""
        return cls(entries, ranker.encode_replies([e.text for e in entries]))

    def save(self, model_dir: str | Path) -> None:
        """Write `bank.jsonl` and `bank_embeddings.npy` into `model_dir` for `load`."""
        path = Path(model_dir)
        path.mkdir(parents=True, exist_ok=True)
        with open(path / ENTRIES_FILE, "w") as fh:
            for e in self.entries:
                fh.write(json.dumps({"text": e.text, "count": e.count, "intents": e.intents}))
                fh.write("\n")
        np.save(
            path / EMBEDDINGS_FILE,
            np.asarray(self.embeddings, dtype=np.float32),
            allow_pickle=False,
        )

    @classmethod
    def load(cls, model_dir: str | Path) -> ResponseBank:
        """Read the bank of the ranker directory `model_dir`; ModelError naming the damaged
        file and the command that rebuilds it (retraining the ranker)."""
        path = Path(model_dir)
        fix = KINDS["ranker"].fix.format(dir=path)
        jf, ef = path / ENTRIES_FILE, path / EMBEDDINGS_FILE
        if (path / MANIFEST_FILE).is_file():  # a bank saved alone has no manifest
            # sizes and sha256 recorded at training, when the manifest has them
            manifest = read_manifest(path, "ranker")
            verify_files(path, manifest, "ranker", (ENTRIES_FILE, EMBEDDINGS_FILE))
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
        entries = []
        for lineno, obj in rows:
            try:
                entries.append(
                    BankEntry(str(obj["text"]), int(obj["count"]), dict(obj.get("intents", {})))
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ModelError(f"{jf}:{lineno}: bad bank entry ({exc!r}): {fix}.") from None
        try:
            emb = np.load(ef, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise ModelError(f"{ef} is damaged ({exc}): {fix}.") from None
        if emb.ndim != 2 or emb.shape[0] != len(entries):
            raise ModelError(
                f"{ef} does not match {jf}: shape {emb.shape} for {len(entries)} bank entries "
                f"(expected ({len(entries)}, width)): {fix}."
            )
        return cls(entries, emb.astype(np.float32))

    def __len__(self) -> int:
        return len(self.entries)

    def top(self, context_embedding: np.ndarray, k: int = 5) -> list[tuple[int, float]]:
        """Indices and cosine scores of the k best replies for a context embedding (H,)."""
        scores = self.embeddings @ context_embedding
        k = min(k, len(scores))
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.argsort(-scores[idx])]
        return [(int(i), float(scores[i])) for i in idx]
