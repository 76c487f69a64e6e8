"""Response ranker at run time: a bi-encoder scoring candidate agent replies for a context.

The context (last K turns, see `assistant.context`) and each reply are embedded by the same
fine-tuned encoder; the score is their cosine similarity. A ranker trained with lexical
towers (`assistant.lexical`) adds their cosine with the weight chosen on validation data:

    score = (1 - w) * cos(transformer) + w * cos(lexical)

Both are folded into one vector per text, [sqrt(1-w) * dense, sqrt(w) * lexical], still of
unit length, so the score stays a dot product: the response bank's precomputed embeddings
and every caller work unchanged. A model directory also carries the response bank built from
the training dialogues (`bank.jsonl`, see `assistant.bank`). `ResponseRanker.save` writes the
ranker's part of the directory and `ResponseRanker.load` reads it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.context import format_context
from assistant.errors import ModelError
from assistant.lexical import LexicalEncoder
from kb.manifest import KINDS, read_manifest, verify_files, write_manifest


class ResponseRanker:
    """A trained ranker.

    >>> r = ResponseRanker.load("models/ranker")                                    # doctest: +SKIP
    >>> r.score([("customer", "parcel never came")], ["Which order?", "Bye!"])  # doctest: +SKIP
    array([0.71, 0.08], dtype=float32)
    """

    def __init__(
        self,
        encoder,
        manifest: dict,
        path: Path | None = None,
        lexical: LexicalEncoder | None = None,
    ) -> None:
        """`manifest["config"]` gives context_turns, max_context_length and max_reply_length,
        `manifest["lexical_weight"]` the lexical share. `path`: where it was loaded from (None:
        not saved)."""
        self.encoder = encoder
        self.lexical = lexical
        # weight of the lexical score; 0 without lexical towers
        self.lexical_weight = float(manifest.get("lexical_weight", 0.0)) if lexical else 0.0
        self.manifest = manifest
        self.path = path
        cfg = manifest.get("config", {})
        self.context_turns: int = int(cfg.get("context_turns", 3))
        self.max_context_length: int = int(cfg.get("max_context_length", 128))
        self.max_reply_length: int = int(cfg.get("max_reply_length", 64))

    @classmethod
    def load(
        cls, model_dir: str | Path, precision: str = "auto", threads: int | None = None
    ) -> ResponseRanker:
        """Load a model directory; `precision` as in `kb.encoder.resolve_precision`, `threads`
        the encoder's intra-op threads (`kb.encoder.load_encoder`; None: the process's)."""
        from kb.encoder import load_encoder

        path = Path(model_dir)
        manifest = read_manifest(path, "ranker")
        # sizes and sha256 recorded at training (the response bank's too: it is small)
        verify_files(path, manifest, "ranker")
        try:
            encoder = load_encoder(path, precision=precision, threads=threads)
        except ModelError as exc:
            fix = KINDS["ranker"].fix.format(dir=path)
            raise ModelError(f"{exc} {fix[0].upper()}{fix[1:]}.") from None
        return cls(encoder, manifest, path, LexicalEncoder.load(path))

    def save(self, model_dir: str | Path) -> dict:
        """Write the ranker so that `load` reads it back: the encoder (safetensors, plus the
        sentence-transformers files), the lexical towers if any, and `manifest.json`; returns
        the manifest. The response bank is saved beside it by `ResponseBank.save`. Give a new
        or empty directory, as for `IntentClassifier.save`."""
        out = Path(model_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.encoder.save(out, max_length=self.max_context_length)
        if self.lexical is not None:
            self.lexical.save(out)
        fields = {k: v for k, v in self.manifest.items() if k not in ("kind", "format_version")}
        fields["lexical_weight"] = self.lexical_weight
        return write_manifest(out, "ranker", **fields)

    @property
    def version(self) -> str:
        return f"ranker:{self.manifest.get('trained_at', '?')}"

    def encode_contexts(self, contexts: list[str], progress: bool = False) -> np.ndarray:
        """Embed formatted contexts (see `format_context`): (N, H [+ lexical]), unit length."""
        dense = self.encoder.encode(contexts, max_length=self.max_context_length, progress=progress)
        if self.lexical is None:
            return dense
        return fuse(dense, self.lexical.encode_contexts(contexts), self.lexical_weight)

    def encode_replies(self, replies: list[str], progress: bool = False) -> np.ndarray:
        """Embed candidate replies: (N, H [+ lexical]), unit length."""
        dense = self.encoder.encode(replies, max_length=self.max_reply_length, progress=progress)
        if self.lexical is None:
            return dense
        return fuse(dense, self.lexical.encode_replies(replies), self.lexical_weight)

    def dense_part(self, embedding: np.ndarray) -> np.ndarray:
        """The transformer's own unit vector inside a vector from `encode_contexts` (what a
        knowledge base built with this ranker's encoder is searched with)."""
        dense = np.asarray(embedding[..., : self.encoder.dim], dtype=np.float32)
        norm = np.linalg.norm(dense, axis=-1, keepdims=True)
        return dense / np.maximum(norm, 1e-12)

    def context_text(self, turns: list[tuple[str, str]]) -> str:
        """The last `context_turns` (role, text) turns as one text."""
        return format_context(turns[-self.context_turns :])

    def score(self, turns: list[tuple[str, str]], candidates: list[str]) -> np.ndarray:
        """Cosine similarity of each candidate reply to the conversation so far."""
        ctx = self.encode_contexts([self.context_text(turns)])[0]
        return self.encode_replies(candidates) @ ctx


def fuse(dense: np.ndarray, lexical: np.ndarray, weight: float) -> np.ndarray:
    """[sqrt(1-w) * dense, sqrt(w) * lexical]: dot products of fused vectors are the weighted
    sums of the two cosines.

    >>> a = fuse(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]), 0.25)
    >>> b = fuse(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]]), 0.25)
    >>> float((a @ b.T)[0, 0])  # 0.75 * 1 + 0.25 * 0
    0.75
    """
    return np.concatenate(
        [np.sqrt(1.0 - weight) * dense, np.sqrt(weight) * lexical], axis=-1
    ).astype(np.float32)
