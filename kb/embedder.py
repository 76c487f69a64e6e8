"""Where a build's encoder loads and runs: a forked process, started before parsing.

Loading the encoder is mostly importing torch, transformers and sentence-transformers:
~5-6 s of one core. A build starts it first, in a forked process (Linux), and parses,
chunks and writes the passage store and keyword index meanwhile in this one, so neither
waits on the other's Python interpreter lock: the model was ready after 5.6 s against 8.1 s
(median of 3) when it loaded in a thread of this process, on 10k generated passages. The
encoder process then embeds the passages, forking one single-threaded worker per core
(`Encoder.encode`), and sends the vectors back.

The encoder process is used only while torch is not imported in this process yet (as in
`assistant kb build`): a process forked after torch ran multi-threaded (OpenMP) may hang in
its first multi-threaded operation. Otherwise, and where fork is not available, the encoder
loads in a thread here and embeds here (its workers, forked with one thread each, are safe).
"""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from kb.encoder import Encoder

# The encoder of the encoder process (set there by `_load`).
_ENCODER: Encoder | None = None


def _load(model_path: Path, precision: str) -> dict:
    global _ENCODER
    _ENCODER = Encoder.load(model_path, precision, chunked_attention=True)
    return _info(_ENCODER)


def _info(encoder: Encoder) -> dict:
    return {"dimension": encoder.dimension, "max_seq_length": encoder.max_seq_length}


def _embed(
    texts: list[str],
    batch_size: int,
    workers: int,
    show_progress: bool,
    encoder: Encoder | None = None,
) -> np.ndarray:
    """Embed `texts` in `workers` forked single-threaded processes (few texts: here, with
    `workers` torch threads), with a tqdm bar on stderr when asked."""
    import torch

    encoder = encoder or _ENCODER
    assert encoder is not None, "the encoder process has no encoder"
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(workers)
    bar = None
    if show_progress:
        from tqdm import tqdm

        bar = tqdm(total=len(texts), unit="passage", desc="embedding", file=sys.stderr)
    try:
        return encoder.encode(texts, batch_size=batch_size, progress=bar, processes=workers)
    finally:
        if bar is not None:
            bar.close()
        torch.set_num_threads(previous_threads)


class Embedder:
    """A build's encoder, loading from construction on; `info()` waits for the load."""

    def __init__(self, model_path: Path, precision: str) -> None:
        self._process = (
            sys.platform.startswith("linux")
            and "fork" in multiprocessing.get_all_start_methods()
            and "torch" not in sys.modules
        )
        if self._process:
            context = multiprocessing.get_context("fork")
            self._pool: ProcessPoolExecutor | ThreadPoolExecutor = ProcessPoolExecutor(
                1, mp_context=context
            )
            self._loaded: Future = self._pool.submit(_load, model_path, precision)
        else:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="kb-encoder")
            self._loaded = self._pool.submit(
                Encoder.load, model_path, precision, chunked_attention=True
            )

    def info(self) -> dict:
        """{"dimension", "max_seq_length"} of the loaded encoder; re-raises a load error."""
        loaded = self._loaded.result()
        return loaded if self._process else _info(loaded)

    def embed(
        self, texts: list[str], batch_size: int, workers: int, show_progress: bool
    ) -> np.ndarray:
        """Unit-length float32 embeddings of `texts` (see `_embed`)."""
        if self._process:
            self.info()
            return self._pool.submit(_embed, texts, batch_size, workers, show_progress).result()
        # in this process: embed from the calling thread (workers are forked from it)
        return _embed(texts, batch_size, workers, show_progress, self._loaded.result())

    def close(self) -> None:
        """End the encoder process: now when it is idle; when its load is done if it is
        still loading (a build that found nothing to embed does not wait for the load)."""
        self._pool.shutdown(wait=self._loaded.done(), cancel_futures=True)

    def __enter__(self) -> Embedder:
        return self

    def __exit__(self, *_) -> None:
        self.close()


__all__ = ["Embedder"]
