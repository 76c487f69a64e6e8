"""Where a build's encoder loads and runs: a forked process, started before parsing.

Loading the encoder is mostly importing torch and transformers: seconds of one core. A
build starts it first, in a forked process (Linux), and parses, chunks and writes the
passage store and keyword index meanwhile in this one, so neither waits on the other's
Python interpreter lock: the model was ready after 5.6 s against 8.1 s (median of 3, when
the encoder still imported sentence-transformers) when it loaded in a thread of this
process, on 10k generated passages. The encoder process then embeds the passages, forking
one single-threaded worker per core (`Encoder.encode`), and sends the vectors back.

The encoder process is used only while torch is not imported in this process yet (as in
`assistant kb build`): a process forked after torch ran multi-threaded (OpenMP) may hang in
its first multi-threaded operation. Otherwise, and where fork is not available, the encoder
loads in a thread here and embeds here (its workers, forked with one thread each, are safe).
"""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from kb.encoder import Encoder, can_fork
from kb.errors import KBError


def _info(encoder: Encoder) -> dict:
    return {"dimension": encoder.dim, "max_seq_length": encoder.max_length}


def _embed(
    texts: list[str],
    batch_size: int,
    workers: int,
    show_progress: bool,
    max_length: int | None,
    encoder: Encoder,
) -> np.ndarray:
    """Embed `texts` in `workers` forked single-threaded processes (few texts: here, with
    `workers` torch threads), truncated to `max_length` tokens (None: the encoder's limit),
    with a tqdm bar on stderr when asked."""
    import torch

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(workers)
    bar = None
    if show_progress:
        from tqdm import tqdm

        bar = tqdm(total=len(texts), unit="passage", desc="embedding", file=sys.stderr)
    try:
        return encoder.encode(
            texts, batch_size=batch_size, max_length=max_length, progress=bar, processes=workers
        )
    finally:
        if bar is not None:
            bar.close()
        torch.set_num_threads(previous_threads)


def _serve(conn, model_path: Path, precision: str) -> None:
    """The encoder process: load, report the encoder's info, then embed each job received
    until told to stop (None) or the pipe closes. Errors go back to the building process."""
    try:
        encoder = Encoder.load(model_path, precision, chunked_attention=True)
        conn.send(("ok", _info(encoder)))
    except BaseException as exc:  # noqa: BLE001 - reported to the building process
        _send_error(conn, exc)
        return
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            conn.send(("ok", _embed(*job, encoder=encoder)))
        except BaseException as exc:  # noqa: BLE001 - reported to the building process
            _send_error(conn, exc)


def _send_error(conn, exc: BaseException) -> None:
    try:
        conn.send(("error", exc))
    except Exception:  # noqa: BLE001 - an exception that cannot be pickled
        conn.send(("error", KBError(f"the encoder process failed: {exc!r}")))


class Embedder:
    """A build's encoder, loading from construction on; `info()` waits for the load."""

    def __init__(self, model_path: Path, precision: str) -> None:
        self._in_process = not can_fork() or "torch" in sys.modules
        self._info: dict | None = None
        if self._in_process:
            self._loader = ThreadPoolExecutor(1, thread_name_prefix="kb-encoder")
            self._loaded: Future = self._loader.submit(
                Encoder.load, model_path, precision, chunked_attention=True
            )
            self._loader.shutdown(wait=False)
        else:
            context = multiprocessing.get_context("fork")
            self._conn, child = context.Pipe()
            self._process = context.Process(
                target=_serve, args=(child, model_path, precision), name="kb-encoder"
            )
            self._process.start()
            child.close()

    def _receive(self):
        try:
            kind, value = self._conn.recv()
        except EOFError:
            self._process.join()
            raise KBError(
                f"the encoder process ended unexpectedly (exit code {self._process.exitcode})"
            ) from None
        if kind == "error":
            raise value
        return value

    def info(self) -> dict:
        """{"dimension", "max_seq_length"} of the loaded encoder; re-raises a load error."""
        if self._info is None:
            self._info = _info(self._loaded.result()) if self._in_process else self._receive()
        return self._info

    def embed(
        self,
        texts: list[str],
        batch_size: int,
        workers: int,
        show_progress: bool,
        max_length: int | None = None,
    ) -> np.ndarray:
        """Unit-length float32 embeddings of `texts` (see `_embed`)."""
        job = (texts, batch_size, workers, show_progress, max_length)
        if self._in_process:  # embed from the calling thread (workers are forked from it)
            return _embed(*job, encoder=self._loaded.result())
        self.info()
        self._conn.send(job)
        return self._receive()

    def close(self) -> None:
        """End the encoder process: it stops when idle, and is terminated when still loading
        (a build that found nothing to embed does not wait for the load)."""
        if self._in_process:
            return
        if self._process.is_alive():
            try:
                self._conn.send(None)
            except OSError:  # the process closed its end
                pass
            self._process.join(timeout=5.0 if self._info is not None else 0.0)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join()
        self._conn.close()

    def __enter__(self) -> Embedder:
        return self

    def __exit__(self, *_) -> None:
        self.close()


__all__ = ["Embedder"]
