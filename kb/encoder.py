"""The sentence encoder: text in, unit-length float32 vectors out. The only one in the project.

It serves the knowledge base (building and searching an index), the runtime (the intent
classifier and the response ranker) and training (which fine-tunes its transformer):

- inference: `load_encoder(path, precision)` returns a `TextEncoder`, whose `encode(texts)`
  gives an (n, dim) float32 array of unit rows. Callers depend on that small interface only,
  so another inference backend can stand behind it.
- `Encoder` is the torch implementation: a `transformers` model read from a
  sentence-transformers directory (Transformer, Pooling and Normalize modules; a plain
  transformers directory gets mean pooling), with what training needs on top (`tokenize`,
  `embed` with gradients, `save` in the sentence-transformers layout).

Speed, from the knowledge-base build (docs/benchmarks.md): texts are batched by token length,
so batches carry almost no padding; `processes` > 1 embeds in forked single-threaded workers;
`chunked_attention` replaces torch's fused attention, slow for MiniLM's 32-wide heads.

One precision policy for every encoder (`resolve_precision`): "auto" is bf16 weights where
the CPU computes bf16 natively and fp32 elsewhere, unless ASSISTANT_PRECISION=fp32|bf16 says
otherwise. Training loads fp32 weights and uses bf16 autocast.

Two inference backends (`resolve_backend`, ASSISTANT_BACKEND=auto|onnx|torch): "onnx"
(`kb.onnx_backend.OnnxEncoder`: ONNX Runtime on the graph exported next to the weights, the
Rust tokenizers, numpy; no torch in the process) and "torch" (`Encoder`). "auto" is onnx:
on both CPUs measured (docs/benchmarks.md) a single message encodes 2-2.5x faster with it
than with torch in fp32 and 1.7x faster than torch in bf16 weights, with a cosine of
0.9999998 to torch fp32 (bf16: 0.9997), and the process starts without importing torch.
Batches of passages, as in a knowledge-base build, are the other way round (torch bf16 4x,
torch fp32 1.4x faster than ONNX Runtime on the same CPU): the build keeps `Encoder`.
`Encoder.save` writes the export, so a trained model is ready for the onnx backend; a
directory saved before gets it on first use (`kb.onnx_backend.ensure_export`).

torch and transformers are imported when a torch model is loaded, not with this module.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from kb.errors import ConfigError, ModelError
from kb.paths import resolve_model_path

if TYPE_CHECKING:  # pragma: no cover
    import torch

PRECISIONS = ("fp32", "bf16", "autocast")  # weights fp32 / bf16 / fp32 with bf16 autocast
PRECISION_ENV = "ASSISTANT_PRECISION"
BACKENDS = ("onnx", "torch")
BACKEND_ENV = "ASSISTANT_BACKEND"
POOLING_MODES = ("cls", "max", "mean", "mean_sqrt_len_tokens", "lasttoken")
DEFAULT_MAX_LENGTH = 512  # when neither the model directory nor the caller gives one


def cpu_has_bf16() -> bool:
    """True when the CPU computes bf16 natively (AVX512-BF16 or AMX), so bf16 is a speed-up.

    On this project's 2-core reference CPU a single-message encode takes 1.5x less time in
    bf16 weights, and embeddings keep a cosine >= 0.9999 to fp32 ones (docs/benchmarks.md);
    without native bf16 it is slower than fp32.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision: str = "auto") -> str:
    """ "fp32", "bf16" (bf16 weights) or "autocast" (fp32 weights, bf16 autocast).

    "auto" takes $ASSISTANT_PRECISION (fp32 or bf16) when set, else bf16 where the CPU has
    native bf16 (`cpu_has_bf16`) and fp32 elsewhere.

    >>> resolve_precision("fp32")
    'fp32'
    """
    if precision == "auto":
        forced = os.environ.get(PRECISION_ENV, "").strip().lower()
        if forced and forced not in ("fp32", "bf16"):
            raise ConfigError(
                f"{PRECISION_ENV} must be fp32 or bf16, got {forced!r}: fix or unset it"
            )
        return forced or ("bf16" if cpu_has_bf16() else "fp32")
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be auto, {', '.join(PRECISIONS)}, got {precision!r}")
    return precision


class TextEncoder(Protocol):
    """What inference callers (knowledge base, intent classifier, ranker) rely on."""

    path: Path  # the model directory
    precision: str  # as resolved by `resolve_precision`

    @property
    def dim(self) -> int:
        """Width of an embedding."""

    @property
    def max_length(self) -> int:
        """Token limit a text is truncated to unless `encode` is given another."""

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        max_length: int | None = None,
        progress: Any = None,
        processes: int = 1,
    ) -> np.ndarray:
        """Embeddings of `texts`: (len(texts), dim), float32, rows of unit length."""


def resolve_backend(backend: str = "auto", precision: str = "auto") -> str:
    """ "onnx" or "torch" for an inference encoder.

    "auto" takes $ASSISTANT_BACKEND (onnx, torch or auto) when set; otherwise onnx (the faster
    on every CPU measured for one message at a time, see the module docstring), unless a bf16
    precision is asked for (only torch computes in bf16) or onnxruntime is not installed.
    Inside `batch_inference()` "auto" is the backend for many texts at once instead.

    >>> resolve_backend("torch")
    'torch'
    """
    if backend == "auto":
        backend = os.environ.get(BACKEND_ENV, "").strip().lower() or "auto"
        if backend not in (*BACKENDS, "auto"):
            raise ConfigError(
                f"{BACKEND_ENV} must be onnx, torch or auto, got {backend!r}: fix or unset it"
            )
    if backend not in (*BACKENDS, "auto"):
        raise ConfigError(f"backend must be auto, {', '.join(BACKENDS)}, got {backend!r}")
    if backend != "auto":
        return backend
    if _FOR_BATCHES:  # inside `batch_inference()`
        return _batch_choice()
    if precision != "auto" or os.environ.get(PRECISION_ENV, "").strip():
        if resolve_precision(precision) != "fp32":
            return "torch"
    from importlib.util import find_spec

    return "onnx" if find_spec("onnxruntime") and find_spec("tokenizers") else "torch"


_FOR_BATCHES = 0  # > 0 inside `batch_inference()`


def _batch_choice() -> str:
    """The backend for many texts at once: torch where it is installed (on batches it is the
    faster one, module docstring: bf16 4-6x, fp32 1.4x faster than ONNX Runtime; and it needs
    no ONNX export), else onnx."""
    from importlib.util import find_spec

    return "torch" if find_spec("torch") and find_spec("transformers") else "onnx"


@contextmanager
def batch_inference():
    """Inference encoders loaded inside the block (`load_encoder`), with backend "auto" and
    no ASSISTANT_BACKEND set, run on the backend for batches (`_batch_choice`), a torch one
    with chunked attention: for jobs that encode thousands of texts at once, such as a
    calibration's pass over its validation turns and its judge. Precision stays "auto"
    (bf16 where the CPU has it natively)."""
    global _FOR_BATCHES
    _FOR_BATCHES += 1
    try:
        yield
    finally:
        _FOR_BATCHES -= 1


_INFERENCE_THREADS: int | None = None  # see `set_inference_threads`


def set_inference_threads(threads: int | None) -> None:
    """The intra-op thread count of inference encoders loaded from now on, of torch now if
    it is loaded, and of numpy's BLAS and OpenMP (`limit_native_pools`); None: each
    library's default, every core.

    One message is a tiny batch: a second thread saves little and, as soon as another
    thread (the log writer, the UI) wants the CPU, makes every encode several times slower;
    the service sets 1.
    """
    global _INFERENCE_THREADS
    _INFERENCE_THREADS = threads
    if threads is not None and "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    limit_native_pools(threads)


_POOL_LIMITS: list = []  # the threadpoolctl limiters of the cap in force (`limit_native_pools`)


def limit_native_pools(threads: int | None) -> None:
    """Cap the thread pools of numpy's BLAS and of OpenMP (faiss) in this process at
    `threads`; None gives them back the sizes they had before the first cap.

    Between two encodes a turn does small numpy products (the bank's scores, pooling) and a
    faiss search. With their default pools (every core), each such call wakes threads that
    then spin, waiting for more work, for milliseconds after it returns, on the very cores the
    next encode needs: on the 2-core VM a turn's two encodes took 16-18 ms instead of 10
    (docs/benchmarks.md, "Lean runtime"). One thread for products this small costs nothing.
    Only libraries loaded when it is called are capped: call it again after loading faiss.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a scikit-learn dependency, always there
        return
    while _POOL_LIMITS:  # the last call's cap alone holds (a reload calls it again)
        _POOL_LIMITS.pop().restore_original_limits()
    if threads is None:
        return
    for api in ("blas", "openmp"):
        _POOL_LIMITS.append(threadpool_limits(limits=max(1, int(threads)), user_api=api))


def inference_threads() -> int | None:
    """The count `set_inference_threads` last set (None: each library's default)."""
    return _INFERENCE_THREADS


def load_encoder(
    model_path: str | os.PathLike | None = None,
    precision: str = "auto",
    max_length: int | None = None,
    backend: str = "auto",
    threads: int | None = None,
) -> TextEncoder:
    """The inference encoder for a model directory (None = the bundled MiniLM), on the CPU,
    offline. `backend` as in `resolve_backend`, `precision` as in `resolve_precision` (the
    onnx backend computes in fp32), `threads` as in `set_inference_threads`.

    With the onnx backend a directory without a current export gets one first, in a child
    process (`kb.onnx_backend.ensure_export`, a note on stderr says so). When that fails and
    the backend was not forced, the torch encoder answers and stderr says why. Inside
    `batch_inference()` a torch encoder uses `chunked_attention` (faster on batches).
    """
    path = resolve_model_path(model_path)
    _check_readable(path)  # either backend would call an unreadable file missing
    chosen = resolve_backend(backend, precision)
    threads = threads if threads is not None else _INFERENCE_THREADS
    if chosen == "onnx":
        from kb.onnx_backend import OnnxEncoder

        try:
            return OnnxEncoder.load(path, max_length=max_length, threads=threads or os.cpu_count())
        except ModelError as exc:
            forced = backend == "onnx" or os.environ.get(BACKEND_ENV, "").strip() == "onnx"
            if forced:
                raise
            print(f"warning: {exc} Using torch for {path}.", file=sys.stderr, flush=True)
    encoder = Encoder.load(
        path, precision=precision, max_length=max_length, chunked_attention=bool(_FOR_BATCHES)
    )
    if threads is not None:  # torch's pool is the process's: `threads` holds from now on
        sys.modules["torch"].set_num_threads(threads)
    return encoder


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average token vectors, ignoring padding. hidden: (B, T, H), mask: (B, T) -> (B, H)."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def pool_tokens(hidden: torch.Tensor, mask: torch.Tensor, modes: Sequence[str]) -> torch.Tensor:
    """Sentence vectors from token vectors, the `modes` concatenated in sentence-transformers'
    order. hidden: (B, T, H), mask: (B, T) -> (B, H * len(modes))."""
    import torch

    parts = []
    for mode in modes:
        if mode == "cls":
            parts.append(hidden[:, 0])
        elif mode == "max":
            masked = hidden.masked_fill(~mask.bool().unsqueeze(-1), torch.finfo(hidden.dtype).min)
            parts.append(masked.max(dim=1).values)
        elif mode == "mean":
            parts.append(mean_pool(hidden, mask))
        elif mode == "mean_sqrt_len_tokens":
            m = mask.unsqueeze(-1).to(hidden.dtype)
            parts.append((hidden * m).sum(1) / m.sum(1).clamp(min=1e-9).sqrt())
        elif mode == "lasttoken":  # the last real token of each row (any padding side)
            positions = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
            last = (positions * mask.long()).argmax(dim=1)
            parts.append(hidden[torch.arange(hidden.shape[0]), last])
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)


class Encoder:
    """A transformer with pooling, loaded from a local model directory, on the CPU.

    `model` is the `transformers` model (training fine-tunes it in place), `tokenizer` its
    tokenizer. `precision` is "fp32", "bf16" (bf16 weights) or "autocast" (bf16 autocast
    over fp32 weights).

    >>> enc = Encoder.load(None, precision="fp32")      # doctest: +SKIP
    >>> enc.encode(["where is my order?"]).shape         # doctest: +SKIP
    (1, 384)
    """

    backend = "torch"

    def __init__(
        self,
        model,
        tokenizer,
        path: Path,
        pooling: Sequence[str] = ("mean",),
        precision: str = "fp32",
        max_length: int = DEFAULT_MAX_LENGTH,
        lower_case: bool = False,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.path = path
        self.pooling = tuple(pooling)
        self.precision = precision
        self._max_length = int(max_length)
        self.lower_case = lower_case  # sentence-transformers' do_lower_case
        self.attention = "default"  # or "chunked" (see `chunked_attention`)

    @classmethod
    def load(
        cls,
        model_path: str | os.PathLike | None = None,
        precision: str = "fp32",
        max_length: int | None = None,
        chunked_attention: bool = False,
    ) -> Encoder:
        """Load a model directory (None = bundled MiniLM) on the CPU, offline.

        `precision` as in `resolve_precision` (training wants "fp32" weights). `max_length`
        overrides the directory's token limit. `chunked_attention` switches a model that
        supports it to `chunked_attention` (faster on padded batches of many texts), after
        checking on two probe texts that it gives the same embeddings as the default.
        """
        path = resolve_model_path(model_path)
        precision = resolve_precision(precision)
        _check_readable(path)
        layout = _read_layout(path)
        body = layout["transformer"]
        if not any(body.glob("*.safetensors")):
            raise ModelError(
                f"{body}: no .safetensors weights. Only safetensors models are loaded (nothing "
                "is unpickled): re-save the model with safe_serialization=True."
            )
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        if _INFERENCE_THREADS is not None:
            torch.set_num_threads(_INFERENCE_THREADS)
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()  # no 'Loading weights' bar on every start
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(body), local_files_only=True)
            model = AutoModel.from_pretrained(
                str(body), local_files_only=True, use_safetensors=True, dtype=dtype
            )
        except Exception as exc:  # noqa: BLE001 - safetensors, tokenizers, transformers errors
            # a truncated or overwritten weight file, a damaged tokenizer: say so, in one line
            detail = " ".join(str(exc).split())[:300] or type(exc).__name__
            raise ModelError(
                f"{path}: cannot load the model, a file is damaged ({detail})."
            ) from None
        model.eval()
        limit = max_length or layout["max_length"] or _tokenizer_limit(tokenizer, model)
        encoder = cls(
            model, tokenizer, path, layout["pooling"], precision, limit, layout["lower_case"]
        )
        if chunked_attention:
            encoder.attention = _switch_to_chunked_attention(encoder)
        return encoder

    @property
    def dim(self) -> int:
        """Width of an embedding: the transformer's hidden size times the pooling modes."""
        return int(self.model.config.hidden_size) * len(self.pooling)

    @property
    def max_length(self) -> int:
        """Token limit a text is truncated to unless a call gives another."""
        return self._max_length

    @property
    def fingerprint(self) -> str:
        """`model_fingerprint` of the directory this encoder was loaded from."""
        from kb.paths import model_fingerprint

        return model_fingerprint(self.path)

    def tokenize(self, texts: Sequence[str], max_length: int | None = None) -> dict:
        """Token ids and attention mask of `texts` as torch tensors, padded to the longest,
        truncated to `max_length` (default: the encoder's)."""
        # as sentence-transformers does: surrounding whitespace off, lower-cased if configured
        texts = [t.strip() for t in texts]
        if self.lower_case:
            texts = [t.lower() for t in texts]
        return self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=max_length or self.max_length,
            return_tensors="pt",
        )

    def embed(self, batch: dict) -> torch.Tensor:
        """Pooled embeddings (not normalised) of a `tokenize` batch, with gradients when
        enabled, for training. (B, dim)."""
        inputs = {
            k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in batch
        }
        out = self.model(**inputs)
        return pool_tokens(out.last_hidden_state, batch["attention_mask"], self.pooling)

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        max_length: int | None = None,
        progress: Any = None,
        processes: int = 1,
        autocast: bool | None = None,
    ) -> np.ndarray:
        """Embeddings of `texts`, shape (len(texts), dim), float32, unit length.

        Texts are taken in windows of similar character length, and each window is cut into
        batches of similar token length, so batches carry almost no padding; inputs longer
        than `max_length` tokens (default: the encoder's) are truncated. `progress` is True
        for a tqdm bar on stderr, or a tqdm-like bar to advance per text. `autocast` forces
        bf16 autocast on or off for this call (None: as `precision` says).

        `processes` > 1 encodes windows in that many forked worker processes of one torch
        thread each (Linux, from `PARALLEL_MIN_TEXTS` texts on; otherwise this process does
        the work with the torch threads it has). On a 2-core CPU two single-threaded
        processes embed ~10% faster than one process with two threads, whose threads wait
        on each other at every operator, and twice as fast when another process keeps one
        core busy. The workers inherit the loaded model from this process, so they start in
        milliseconds.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        max_length = max_length or self.max_length
        if autocast is None:
            autocast = self.precision == "autocast"
        # cut absurdly long strings before tokenising; the tokenizer truncates the rest
        limit = max_length * 12
        clipped = [t[:limit] for t in texts]
        order = np.argsort([-len(t) for t in clipped], kind="stable")
        parallel = processes > 1 and len(texts) >= PARALLEL_MIN_TEXTS and can_fork()
        # Windows of WINDOW_BATCHES batches; in parallel, the last ones are single batches,
        # so no worker waits long at the end for the other to finish a big window.
        size = batch_size * WINDOW_BATCHES
        head = len(order) - (min(len(order), processes * size) if parallel else 0)
        starts = [*range(0, head, size), *range(head, len(order), batch_size)]
        tasks = [
            (order[a:b], [clipped[i] for i in order[a:b]], batch_size, max_length, autocast)
            for a, b in zip(starts, [*starts[1:], len(order)])
        ]
        bar = own_bar = None
        if progress is True:
            from tqdm import tqdm

            bar = own_bar = tqdm(total=len(texts), desc="encoding", unit="text", leave=False)
        elif progress:
            bar = progress
        was_training = self.model.training
        self.model.eval()
        try:
            if parallel:
                results = _encode_forked(self, tasks, processes)
            else:
                results = (_encode_task(task, self) for task in tasks)
            for rows, emb in results:
                out[rows] = emb
                if bar is not None:
                    bar.update(len(rows))
        finally:
            self.model.train(was_training)
            if own_bar is not None:
                own_bar.close()
        return out

    def _encode_window(
        self, texts: list[str], batch_size: int, max_length: int | None = None, autocast=False
    ) -> np.ndarray:
        """Encode one window: tokenise it once, then run batches of similar token length."""
        import torch

        features = self.tokenize(texts, max_length)
        mask = features["attention_mask"]
        lengths = mask.sum(dim=1)
        order = torch.argsort(lengths, descending=True, stable=True)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        context = torch.autocast("cpu", dtype=torch.bfloat16) if autocast else nullcontext()
        with torch.inference_mode(), context:
            for start in range(0, len(texts), batch_size):
                rows = order[start : start + batch_size]
                batch = _select(features, rows, int(lengths[rows].max()), len(texts))
                emb = self.embed(batch).float()
                out[rows.numpy()] = torch.nn.functional.normalize(emb, dim=-1).numpy()
        return out

    def save(
        self, out_dir: str | os.PathLike, max_length: int | None = None, onnx: bool = True
    ) -> None:
        """Write the weights (safetensors), the tokenizer and the sentence-transformers module
        files, so the directory loads here and with plain sentence-transformers; with `onnx`,
        also the inference graph the onnx backend runs (`onnx/model.onnx`, checked against
        these weights, see `kb.onnx_backend.export_onnx`)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(out), safe_serialization=True)
        self.tokenizer.save_pretrained(str(out))
        hidden = int(self.model.config.hidden_size)
        pooling = {"word_embedding_dimension": hidden}
        pooling.update(
            {f"pooling_mode_{_LEGACY_MODES[m]}": m in self.pooling for m in POOLING_MODES}
        )
        (out / "1_Pooling").mkdir(exist_ok=True)
        (out / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=2))
        st = "sentence_transformers.models."
        modules = [
            {"idx": 0, "name": "0", "path": "", "type": st + "Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": st + "Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": st + "Normalize"},
        ]
        (out / "modules.json").write_text(json.dumps(modules, indent=2))
        (out / "2_Normalize").mkdir(exist_ok=True)
        (out / "sentence_bert_config.json").write_text(
            json.dumps(
                {"max_seq_length": max_length or self.max_length, "do_lower_case": self.lower_case}
            )
        )
        if onnx:
            from kb.onnx_backend import export_onnx

            export_onnx(out, in_place=True)  # `out` is what this call just wrote


# sentence-transformers' legacy `pooling_mode_<name>` keys, by mode
_LEGACY_MODES = {
    "cls": "cls_token",
    "max": "max_tokens",
    "mean": "mean_tokens",
    "mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "lasttoken": "lasttoken",
}
_SUPPORTED_MODULES = ("Transformer", "Pooling", "Normalize")


def _check_readable(path: Path) -> None:
    """ModelError naming the first file of the model directory this process may not read:
    transformers would report it as missing ("no file named ..."), which misleads."""
    from kb.manifest import unreadable_message

    try:
        files = [p for p in path.rglob("*") if p.is_file()]
        for file in files:
            with open(file, "rb"):
                pass
    except PermissionError as exc:
        raise ModelError(unreadable_message(exc.filename or path, path)) from None


def _read_layout(path: Path) -> dict:
    """Where the transformer is, how it pools, its token limit and casing, from the
    sentence-transformers files of `path` (a plain transformers directory: mean pooling)."""
    layout: dict = {"transformer": path, "pooling": ("mean",), "max_length": None}
    modules_file = path / "modules.json"
    try:
        modules = json.loads(modules_file.read_text()) if modules_file.is_file() else []
        for module in modules:
            kind = str(module.get("type", "")).rsplit(".", 1)[-1]
            folder = path / str(module.get("path", ""))
            if kind == "Transformer":
                layout["transformer"] = folder
            elif kind == "Pooling":
                layout["pooling"] = _pooling_modes(folder / "config.json")
            elif kind not in _SUPPORTED_MODULES:
                raise ModelError(
                    f"{modules_file}: module {module.get('type')!r} is not supported; the "
                    f"encoder reads models made of {', '.join(_SUPPORTED_MODULES)} modules."
                )
        config_file = layout["transformer"] / "sentence_bert_config.json"
        config = json.loads(config_file.read_text()) if config_file.is_file() else {}
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise ModelError(f"{path}: unreadable sentence-transformers files ({exc}).") from None
    layout["max_length"] = config.get("max_seq_length")
    layout["lower_case"] = bool(config.get("do_lower_case", False))
    return layout


def passage_limit(model_path: str | os.PathLike | None, requested: int | None = None) -> int:
    """Tokens of a passage the encoder of `model_path` reads in a build (read from its files,
    without loading it): `requested`, else the model's own limit raised to
    `kb.config.PASSAGE_TOKENS`, never more than its position embeddings. Raises
    KBInputError when `requested` is more than the model can read.

    >>> passage_limit(None)
    256
    """
    from kb.config import PASSAGE_TOKENS
    from kb.errors import KBInputError

    path = resolve_model_path(model_path)
    layout = _read_layout(path)
    config_file = layout["transformer"] / "config.json"
    try:
        config = json.loads(config_file.read_text()) if config_file.is_file() else {}
        positions = int(config.get("max_position_embeddings") or 0)
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        raise ModelError(f"{config_file}: unreadable model configuration ({exc}).") from None
    if requested is not None:
        if positions and requested > positions:
            raise KBInputError(
                f"max_seq_length {requested} is more tokens than the model {path} can read "
                f"({positions}): use at most {positions}, or leave it unset"
            )
        return int(requested)
    from kb.onnx_backend import configured_max_length

    limit = max(configured_max_length(layout), PASSAGE_TOKENS)
    return min(limit, positions) if positions else limit


def _pooling_modes(config_file: Path) -> tuple[str, ...]:
    """The pooling modes of a Pooling module's config (legacy booleans or `pooling_mode`)."""
    config = json.loads(config_file.read_text()) if config_file.is_file() else {}
    if "pooling_mode" in config:
        mode = config["pooling_mode"]
        modes = (mode,) if isinstance(mode, str) else tuple(mode)
    else:
        modes = tuple(
            m for m in POOLING_MODES if config.get(f"pooling_mode_{_LEGACY_MODES[m]}", False)
        )
        if config.get("pooling_mode_weightedmean_tokens"):
            modes += ("weightedmean",)
    modes = modes or ("mean",)
    for mode in modes:
        if mode not in POOLING_MODES:
            raise ModelError(
                f"{config_file}: pooling mode {mode!r} is not supported "
                f"(supported: {', '.join(POOLING_MODES)})."
            )
    # sentence-transformers concatenates in this order, whatever the config's
    return tuple(m for m in POOLING_MODES if m in modes)


def _tokenizer_limit(tokenizer, model) -> int:
    """The token limit when the directory states none: the smaller of the tokenizer's and the
    position embeddings', at most `DEFAULT_MAX_LENGTH`."""
    limits = [DEFAULT_MAX_LENGTH, int(getattr(tokenizer, "model_max_length", 0) or 0)]
    limits.append(int(getattr(model.config, "max_position_embeddings", 0) or 0))
    return min(n for n in limits if n > 0)


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
    inner = encoder.model
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
    autocast = encoder.precision == "autocast"
    before = encoder._encode_window(probe, len(probe), autocast=autocast)
    try:
        inner.set_attn_implementation(CHUNKED_ATTENTION)
    except Exception:  # noqa: BLE001 - a model that cannot switch keeps its own attention
        return "default"
    if config._attn_implementation == CHUNKED_ATTENTION:
        after = encoder._encode_window(probe, len(probe), autocast=autocast)
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
    rows, texts, batch_size, max_length, autocast = task
    encoder = encoder or _FORKED_ENCODER
    assert encoder is not None, "worker started without an encoder"
    return rows, encoder._encode_window(texts, batch_size, max_length, autocast)


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
    "TextEncoder",
    "load_encoder",
    "batch_inference",
    "resolve_precision",
    "cpu_has_bf16",
    "can_fork",
    "mean_pool",
    "pool_tokens",
    "PRECISIONS",
]
