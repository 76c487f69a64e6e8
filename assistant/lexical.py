"""The response ranker's lexical towers: learned embeddings of hashed words and word pairs.

A context and a reply each become the mean of the embeddings of their features, L2-normalised;
their dot product is a second relevance score beside the transformer's. The features are the
lower-cased words and adjacent word pairs of each turn, tagged with the turn's position and
role (the newest customer turn counts twice), hashed into a fixed number of buckets. Trained
on the company's own dialogues (`training/lexical.py`), the towers learn which words of a
conversation predict which words of the agent's answer: product names, order vocabulary,
the company's own phrasing. They cost microseconds per message.

Files in a ranker directory: `lexical.json` (buckets, dimension, format) and
`lexical_context.npy` / `lexical_reply.npy` (float16 tables, memory-mapped on load).
"""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import numpy as np

from assistant.errors import ModelError
from kb.manifest import KINDS, unreadable_message

FORMAT_VERSION = 1
CONFIG_FILE = "lexical.json"
TABLE_FILES = {"context": "lexical_context.npy", "reply": "lexical_reply.npy"}

_WORD = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")
_SEPARATOR = " | "  # between turns in `assistant.context.format_context`


def _hash(feature: str, buckets: int) -> int:
    return zlib.crc32(feature.encode("utf-8")) % buckets


def text_features(text: str, tag: str, buckets: int) -> list[int]:
    """Hashed words and adjacent word pairs of `text`, each prefixed with `tag`.

    >>> text_features("Where is my order?", "r:", 1 << 18) == text_features(
    ...     "where is  my ORDER?", "r:", 1 << 18)
    True
    """
    words = _WORD.findall(text.lower())
    out = [_hash(tag + w, buckets) for w in words]
    out += [_hash(f"{tag}{a} {b}", buckets) for a, b in zip(words, words[1:], strict=False)]
    return out


def context_features(context: str, buckets: int) -> list[int]:
    """Features of a formatted context (newest turn first, see `format_context`).

    Each turn's features are tagged with its position and role ("0c:" for the newest customer
    turn, "1a:" for the agent turn before it...); the newest turn is added once more untagged
    by position, so it weighs twice in the mean.
    """
    out: list[int] = []
    for pos, segment in enumerate(context.split(_SEPARATOR)):
        role, sep, text = segment.partition(": ")
        if not sep:
            role, text = "?", segment
        out += text_features(text, f"{pos}{role[:1]}:", buckets)
        if pos == 0:
            out += text_features(text, "*:", buckets)
    return out or [0]


def reply_features(reply: str, buckets: int) -> list[int]:
    """Features of a candidate reply (bucket 0 for a reply without words)."""
    return text_features(reply, "r:", buckets) or [0]


class LexicalEncoder:
    """Two embedding tables (context and reply side) loaded from a ranker directory."""

    def __init__(self, context_table: np.ndarray, reply_table: np.ndarray) -> None:
        if context_table.shape != reply_table.shape or context_table.ndim != 2:
            raise ModelError(
                f"lexical tables differ in shape: {context_table.shape} and {reply_table.shape}"
            )
        self.context_table = context_table
        self.reply_table = reply_table
        self.buckets, self.dim = context_table.shape

    @classmethod
    def load(cls, model_dir: str | Path) -> LexicalEncoder | None:
        """The towers saved in `model_dir`, or None when it has none (a dense-only ranker)."""
        path = Path(model_dir)
        cfg_file = path / CONFIG_FILE
        if not cfg_file.is_file():
            return None
        fix = KINDS["ranker"].fix.format(dir=path)
        try:
            cfg = json.loads(cfg_file.read_text())
            version = int(cfg["format_version"])
            shape = (int(cfg["buckets"]), int(cfg["dim"]))
        except PermissionError:
            raise ModelError(unreadable_message(cfg_file, path)) from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{cfg_file} is damaged ({exc}): {fix}.") from None
        if version > FORMAT_VERSION:
            raise ModelError(
                f"{cfg_file}: format version {version} is newer than this assistant reads "
                f"({FORMAT_VERSION}); upgrade the assistant."
            )
        tables = []
        for side in ("context", "reply"):
            f = path / TABLE_FILES[side]
            try:
                table = np.load(f, mmap_mode="r", allow_pickle=False)
            except PermissionError:
                raise ModelError(unreadable_message(f, path)) from None
            except FileNotFoundError:
                raise ModelError(f"{f} is missing from the ranker model: {fix}.") from None
            except (OSError, ValueError, EOFError) as exc:
                raise ModelError(f"{f} is damaged ({exc}): {fix}.") from None
            if table.shape != shape:
                raise ModelError(f"{f}: shape {table.shape}, but {cfg_file} says {shape}: {fix}.")
            tables.append(table)
        return cls(*tables)

    def save(self, model_dir: str | Path) -> None:
        path = Path(model_dir)
        for side, table in (("context", self.context_table), ("reply", self.reply_table)):
            np.save(path / TABLE_FILES[side], np.asarray(table, dtype=np.float16))
        cfg = {"format_version": FORMAT_VERSION, "buckets": self.buckets, "dim": self.dim}
        (path / CONFIG_FILE).write_text(json.dumps(cfg, indent=2) + "\n")

    def _encode(self, table: np.ndarray, features: list[list[int]]) -> np.ndarray:
        out = np.zeros((len(features), self.dim), dtype=np.float32)
        for i, f in enumerate(features):
            out[i] = np.asarray(table[np.asarray(f)], dtype=np.float32).mean(0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def encode_contexts(self, contexts: list[str], progress: bool = False) -> np.ndarray:
        """(N, dim) unit vectors of formatted contexts (`progress` is accepted and unused:
        this is fast)."""
        return self._encode(
            self.context_table, [context_features(c, self.buckets) for c in contexts]
        )

    def encode_replies(self, replies: list[str], progress: bool = False) -> np.ndarray:
        """(N, dim) unit vectors of replies."""
        return self._encode(self.reply_table, [reply_features(r, self.buckets) for r in replies])
