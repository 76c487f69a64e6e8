"""The response bank at run time: templates, their usage, their precomputed embeddings."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.errors import ModelError


@dataclass
class BankEntry:
    text: str  # reply template with placeholders such as {name} or {order_number}
    count: int  # times agents used it in the training history
    intents: dict[str, int] = field(default_factory=dict)  # intents it answered, with counts


class ResponseBank:
    """Loaded from a ranker directory: `bank.jsonl` and `bank_embeddings.npy` (N, H)."""

    def __init__(self, entries: list[BankEntry], embeddings: np.ndarray) -> None:
        self.entries = entries
        self.embeddings = embeddings

    @classmethod
    def load(cls, model_dir: str | Path) -> ResponseBank:
        path = Path(model_dir)
        jf, ef = path / "bank.jsonl", path / "bank_embeddings.npy"
        for f in (jf, ef):
            if not f.is_file():
                raise ModelError(f"{f}: missing response bank. Retrain the ranker to build it.")
        entries = []
        for lineno, line in enumerate(jf.read_text().splitlines(), start=1):
            try:
                obj = json.loads(line)
                entries.append(
                    BankEntry(obj["text"], int(obj["count"]), dict(obj.get("intents", {})))
                )
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ModelError(
                    f"{jf}:{lineno}: bad bank entry ({exc}). Retrain the ranker."
                ) from None
        try:
            emb = np.load(ef, allow_pickle=False)
        except ValueError as exc:
            raise ModelError(f"{ef}: corrupted ({exc}). Retrain the ranker.") from None
        if emb.shape[0] != len(entries):
            raise ModelError(f"{ef}: {emb.shape[0]} rows for {len(entries)} bank entries. Retrain.")
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
