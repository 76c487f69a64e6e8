"""Response ranker at run time: a bi-encoder scoring candidate agent replies for a context.

The context (last K turns, see `assistant.context`) and each reply are embedded by the same
fine-tuned encoder; the score is their cosine similarity. A model directory also carries the
response bank built from the training dialogues (`bank.jsonl`, see `assistant.bank`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.context import format_context
from assistant.manifest import read_manifest


class ResponseRanker:
    """A trained ranker.

    >>> r = ResponseRanker.load("models/ranker")                                    # doctest: +SKIP
    >>> r.score([("customer", "parcel never came")], ["Which order?", "Bye!"])  # doctest: +SKIP
    array([0.71, 0.08], dtype=float32)
    """

    def __init__(self, encoder, manifest: dict, path: Path) -> None:
        self.encoder = encoder
        self.manifest = manifest
        self.path = path
        cfg = manifest.get("config", {})
        self.context_turns: int = int(cfg.get("context_turns", 3))
        self.max_context_length: int = int(cfg.get("max_context_length", 128))
        self.max_reply_length: int = int(cfg.get("max_reply_length", 64))

    @classmethod
    def load(cls, model_dir: str | Path) -> ResponseRanker:
        from assistant.encoder import Encoder

        path = Path(model_dir)
        manifest = read_manifest(path, "ranker")
        return cls(Encoder(path), manifest, path)

    @property
    def version(self) -> str:
        return f"ranker:{self.manifest.get('trained_at', '?')}"

    def encode_contexts(self, contexts: list[str], progress: bool = False) -> np.ndarray:
        """Embed formatted contexts (see `format_context`): (N, H), normalised."""
        return self.encoder.encode(contexts, max_length=self.max_context_length, progress=progress)

    def encode_replies(self, replies: list[str], progress: bool = False) -> np.ndarray:
        """Embed candidate replies: (N, H), normalised."""
        return self.encoder.encode(replies, max_length=self.max_reply_length, progress=progress)

    def context_text(self, turns: list[tuple[str, str]]) -> str:
        """The last `context_turns` (role, text) turns as one text."""
        return format_context(turns[-self.context_turns :])

    def score(self, turns: list[tuple[str, str]], candidates: list[str]) -> np.ndarray:
        """Cosine similarity of each candidate reply to the conversation so far."""
        ctx = self.encode_contexts([self.context_text(turns)])[0]
        return self.encode_replies(candidates) @ ctx
