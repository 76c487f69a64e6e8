"""Sentence encoding without torch: an ONNX export of the transformer, run by ONNX Runtime.

A model directory (transformers / sentence-transformers layout, safetensors weights) gets
`onnx/model.onnx` beside its weights: the transformer body only (token ids in, hidden states
out), exported once with `torch.onnx.export` by `export_onnx`. That is the folder convention
of sentence-transformers' own ONNX backend, so the directory still loads with plain
sentence-transformers and transformers. `onnx/export.json` identifies the weights it was
exported from: an export that no longer matches them is stale. A directory that cannot be
written to (an installed package) has its export in the user cache instead.

`OnnxEncoder` answers with that graph, the Rust `tokenizers` package (the directory's
`tokenizer.json`, with the truncation and padding of the torch path) and numpy for pooling,
so a process that only encodes never imports torch or transformers. Measured on a 2-core
Intel Xeon with AMX (docs/benchmarks.md): importing onnxruntime and tokenizers takes 0.2 s
and 38 MB against 3.4 s and 239 MB for torch and transformers, and a short message encodes
in 6.8 ms (p50) against 15.3 ms with torch fp32 and 11.5 ms with torch bf16 weights, at a
cosine of 0.9999998 to torch fp32.

    python -m kb.onnx_backend export MODEL_DIR     # once per directory; training does it on save
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from kb.encoder import _read_layout
from kb.errors import ModelError
from kb.manifest import file_checksums, user_cache_path, write_json_atomic

ONNX_DIR = "onnx"  # sentence-transformers' folder for ONNX exports
ONNX_FILE = "model.onnx"  # the graph, its weights outside it (ONNX external data):
ONNX_DATA = "model.onnx.data"  # read without parsing: a session opens in 0.08 s, not 0.17 s
EXPORT_INFO = "export.json"
# what an export consists of, relative to its model directory (its files are made and replaced
# here, whatever the model's manifest lists: an older export gains `ONNX_DATA` on first use)
EXPORT_FILES = tuple(f"{ONNX_DIR}/{name}" for name in (ONNX_FILE, ONNX_DATA, EXPORT_INFO))
EXPORT_FORMAT = 1
OPSET = 17  # LayerNormalization as one operator
# What the check after an export accepts, on the hidden states of the non-padding tokens
# and on the pooled, normalised embeddings (measured for MiniLM: ~3e-6 and 0.9999998).
MAX_ABS_DIFF = 1e-3
MIN_COSINE = 0.9999
PROBE_TEXTS = [
    "hi",
    "Where is my parcel? It never arrived and the tracking page shows nothing at all.",
    "I was charged twice for order NH-95413, please refund one of them",
]


# -- where an export lives ---------------------------------------------------------------------
def _source_files(body: Path) -> list[Path]:
    """The files the exported graph is made from: the transformer's config and weights (not
    the tokenizer or pooling files, which stay outside the graph, nor a classifier head)."""
    names = ["config.json", "model.safetensors.index.json"]
    files = [body / n for n in names if (body / n).is_file()]
    return files + sorted(body.glob("model*.safetensors"))


def _source_identity(body: Path, content: bool) -> dict:
    """{"stat": name, size and mtime of each source file} and, with `content`, "sha256" of
    their bytes. Training that freezes the word embeddings leaves the first megabytes of the
    weights unchanged, so a prefix is not enough: the whole files are hashed (~0.1 s for
    MiniLM's 90 MB), but only when the cheap stat no longer matches the export's."""
    files = _source_files(body)
    identity: dict = {"stat": [[f.name, f.stat().st_size, f.stat().st_mtime_ns] for f in files]}
    if content:
        import hashlib

        digest = hashlib.sha256()
        for file in files:
            digest.update(file.name.encode() + b"\0")
            with file.open("rb") as handle:
                while chunk := handle.read(1 << 22):
                    digest.update(chunk)
        identity["sha256"] = digest.hexdigest()
    return identity


def _cache_dir(model_dir: Path) -> Path:
    """The user-cache folder for the export of a directory this process cannot write to
    (keyed by the directory's path; `_status` checks that the weights still match)."""
    return user_cache_path(ONNX_DIR, model_dir)


def _status(folder: Path, body: Path) -> str:
    """ "current", "stale" or "missing": the export in `folder` against the weights in `body`."""
    info_file = folder / EXPORT_INFO
    if not (folder / ONNX_FILE).is_file() or not info_file.is_file():
        return "missing"
    try:
        info = json.loads(info_file.read_text())
    except (OSError, ValueError):
        return "stale"
    if info.get("format_version") != EXPORT_FORMAT or "source" not in info:
        return "stale"
    files = info.get("files") or {}  # exports before external data list none
    if not isinstance(files, dict) or any(not (folder / name).is_file() for name in files):
        return "stale"
    source = info["source"]
    if source.get("stat") == _source_identity(body, content=False)["stat"]:
        return "current"
    identity = _source_identity(body, content=True)
    if source.get("sha256") != identity["sha256"]:
        return "stale"
    # the same bytes with other times (a copy): remember them, so the next load is cheap
    try:
        info["source"] = identity
        info_file.write_text(json.dumps(info, indent=2) + "\n")
    except OSError:
        pass
    return "current"


def find_export(model_dir: str | os.PathLike) -> Path | None:
    """The current export of `model_dir` (its `onnx/model.onnx`, else the user cache's), or
    None when there is none or it was made from other weights."""
    path = Path(model_dir)
    body = _read_layout(path)["transformer"]
    for folder in (path / ONNX_DIR, _cache_dir(path)):
        if _status(folder, body) == "current":
            return folder / ONNX_FILE
    return None


def export_status(model_dir: str | os.PathLike) -> str:
    """ "current" (an export of these weights exists), "stale" (the weights changed since
    the directory's export) or "missing"."""
    path = Path(model_dir)
    if find_export(path) is not None:
        return "current"
    return "stale" if (path / ONNX_DIR / ONNX_FILE).is_file() else "missing"


# -- export (needs torch and transformers) -------------------------------------------------------
def export_onnx(
    model_dir: str | os.PathLike, check: bool = True, in_place: bool | None = None
) -> Path:
    """Export the transformer of `model_dir` to `model_dir/onnx/model.onnx`, or to the user
    cache; return the graph's path.

    `in_place` None (the default) writes into `model_dir` only when this project wrote it
    (it has our `manifest.json`, or `save` is exporting what it just wrote) or it already
    holds an `onnx/` folder to refresh, and it is writable. A directory we did not write —
    the bundled pretrained model inside an installed package, a model someone downloaded —
    is never written to: its export goes to the user cache.
    """
    import torch

    path = Path(model_dir)
    layout = _read_layout(path)
    body = layout["transformer"]
    if not any(body.glob("*.safetensors")):
        raise ModelError(f"model {path}: no .safetensors weights in {body}; nothing to export.")
    tokenizer = _tokenizer(body, max_length=None)
    model = _load_body(body)
    accepted = _forward_inputs(model)
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in accepted]
    # padded on purpose: a batch without padding could be traced without the mask
    example = _features(tokenizer, PROBE_TEXTS[:2])
    if in_place is None:
        in_place = _ours(path)
    out_dir = _writable_export_dir(path) if in_place else _cache_export_dir(path)
    with _workspace(out_dir) as work:
        inline = work / "inline.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the tracer's notes on Python branches on shapes
            torch.onnx.export(
                _hidden_states(model, names),
                tuple(torch.from_numpy(example[n]) for n in names),
                str(inline),
                dynamo=False,  # the TorchScript exporter: no onnxscript dependency
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={
                    n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]
                },
                opset_version=OPSET,
                do_constant_folding=True,
            )
        _externalise(inline, work / ONNX_FILE)
        inline.unlink()
        if check:
            _check_export(work / ONNX_FILE, tokenizer, model, names, path)
        _place(work, out_dir)
    info = {
        "format_version": EXPORT_FORMAT,
        "source": _source_identity(body, content=True),
        "inputs": names,
        # size and sha256 of the graph and its weights, checked when they are loaded
        "files": file_checksums(out_dir, [ONNX_FILE, ONNX_DATA]),
        "opset": OPSET,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "torch": torch.__version__,
    }
    (out_dir / EXPORT_INFO).write_text(json.dumps(info, indent=2) + "\n")
    return out_dir / ONNX_FILE


def _externalise(graph: Path, out: Path) -> None:
    """Write the graph in `graph` to `out` with its weights in `ONNX_DATA` beside it (ONNX
    external data). ONNX Runtime then reads the weights as they are instead of parsing 90 MB
    of protobuf: a MiniLM session opens in 0.08 s instead of 0.17 s, and the chat's two models
    are ready ~0.3 s sooner while the UI starts beside them (docs/benchmarks.md)."""
    import onnx

    model = onnx.load(str(graph))
    onnx.save_model(
        model,
        str(out),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=ONNX_DATA,
        size_threshold=1024,
    )


def _split_weights(folder: Path) -> None:
    """An export made before the weights sat beside the graph (no "files" in its
    `export.json`): move them out now (`_externalise`, ~1 s once, no torch needed), so that it
    loads as fast as a new one. Left as it is (it still loads) when the folder is read-only."""
    info_file = folder / EXPORT_INFO
    info = _read_json(info_file)
    if info.get("files") or not os.access(folder, os.W_OK):
        return
    try:
        with _workspace(folder) as work:
            _externalise(folder / ONNX_FILE, work / ONNX_FILE)
            _place(work, folder)
        info["files"] = file_checksums(folder, [ONNX_FILE, ONNX_DATA])
        write_json_atomic(info_file, info)
    except Exception:  # noqa: BLE001 - onnx's parser raises its own errors; nothing is lost
        pass  # still the old single file, which loads


@contextmanager
def _workspace(folder: Path) -> Iterator[Path]:
    """A new private folder inside `folder` to write an export into, removed with whatever
    is left in it (it is ours: nobody else knows its name)."""
    work = Path(tempfile.mkdtemp(dir=folder, prefix=".export-"))
    try:
        yield work
    finally:
        for leftover in work.iterdir():
            leftover.unlink()
        work.rmdir()


def _place(work: Path, folder: Path) -> None:
    """Move the graph and its weights from `work` into `folder`, the weights first (the graph
    names them), each readable as a model file is (`mkdtemp`'s folder is private)."""
    umask = os.umask(0)
    os.umask(umask)
    for name in (ONNX_DATA, ONNX_FILE):
        os.chmod(work / name, 0o666 & ~umask)
        os.replace(work / name, folder / name)


def _ours(path: Path) -> bool:
    """Did this project write `path`? Our artifacts carry `manifest.json` (kb.manifest), at the
    artifact's top or one level up (an encoder saved inside a model directory)."""
    from kb.manifest import MANIFEST_FILE

    return (
        (path / MANIFEST_FILE).is_file()
        or (path.parent / MANIFEST_FILE).is_file()
        or (path / ONNX_DIR).is_dir()
    )


def _writable_export_dir(path: Path) -> Path:
    folder = path / ONNX_DIR
    try:
        folder.mkdir(exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder
    except OSError:
        pass
    return _cache_export_dir(path)


def _cache_export_dir(path: Path) -> Path:
    folder = _cache_dir(path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _load_body(body: Path):
    """The transformer in `body`, float32, eval mode."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        # eager attention traces to plain matrix products (sdpa adds NaN guards)
        model = AutoModel.from_pretrained(
            str(body),
            local_files_only=True,
            use_safetensors=True,
            dtype=torch.float32,
            attn_implementation="eager",
        )
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"model {body}: cannot be loaded for export: {exc}") from None
    return model.eval()


def _hidden_states(model, names: list[str]):
    """`model` as a module taking the tensors `names` positionally and returning only the
    hidden states: what the graph exports."""
    import torch

    class HiddenStates(torch.nn.Module):
        """The model with positional tensor inputs and only the hidden states as output."""

        def __init__(self, inner: torch.nn.Module, names: list[str]) -> None:
            super().__init__()
            self.inner = inner
            self.names = names

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(self.names, tensors))).last_hidden_state

    return HiddenStates(model, names).eval()


def _forward_inputs(model) -> set[str]:
    import inspect

    return set(inspect.signature(model.forward).parameters)


def _check_export(graph: Path, tokenizer, model, names: list[str], path: Path) -> None:
    """Run the exported graph and torch on the probe texts (one alone, then all as a padded
    batch); raise ModelError naming the model and the difference when they disagree."""
    import torch

    session = _session(graph, threads=1)
    for texts in ([PROBE_TEXTS[0]], PROBE_TEXTS):
        features = _features(tokenizer, texts)
        feeds = {n: features[n] for n in names}
        ours = session.run(None, feeds)[0]
        with torch.no_grad():
            ref = model(**{n: torch.from_numpy(v) for n, v in feeds.items()}).last_hidden_state
        ref = ref.float().numpy()
        mask = features["attention_mask"]
        diff = float(np.abs(ours - ref)[mask.astype(bool)].max())
        cosine = float(np.min(np.sum(pool(ours, mask) * pool(ref, mask), axis=1)))
        if diff > MAX_ABS_DIFF or cosine < MIN_COSINE:
            raise ModelError(
                f"model {path}: the ONNX export does not match torch (max abs difference "
                f"{diff:.2e}, min cosine {cosine:.6f} on {len(texts)} probe texts). "
                "Use this model with ASSISTANT_BACKEND=torch."
            )


def ensure_export(model_dir: str | os.PathLike, log=None) -> Path:
    """The current export of `model_dir`, made now when missing or stale.

    The export runs in a child process (`python -m kb.onnx_backend export`), so that torch,
    which it needs, is never loaded into the caller: a directory trained before exports
    existed pays ~5-15 s once and answers without torch from then on. `log` (default:
    stderr) is told why the wait happens. Raises ModelError when the export fails.
    """
    path = Path(model_dir)
    found = find_export(path)
    if found is not None:
        _split_weights(found.parent)
        return found
    say = log or (lambda message: print(message, file=sys.stderr, flush=True))
    say(
        f"Exporting {path} to ONNX once ({export_status(path)}; training exports on save); "
        "it is then loaded without torch."
    )
    done = subprocess.run(
        [sys.executable, "-m", "kb.onnx_backend", "export", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")},
    )
    found = find_export(path)
    if done.returncode != 0 or found is None:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ModelError(
            f"model {path}: the ONNX export failed ({detail[0]}). Run `python -m "
            f"kb.onnx_backend export {path}` to see why, or use ASSISTANT_BACKEND=torch."
        )
    return found


# -- reading a model directory without torch -----------------------------------------------------
def _read_json(file: Path) -> dict:
    if not file.is_file():
        return {}
    try:
        return json.loads(file.read_text())
    except ValueError as exc:
        raise ModelError(f"{file}: not valid JSON ({exc}).") from None


def configured_max_length(layout: dict) -> int:
    """The directory's max_seq_length, else what the torch encoder takes (`_tokenizer_limit`):
    the smallest of the tokenizer's and the position embeddings' limits and 512."""
    from kb.encoder import DEFAULT_MAX_LENGTH

    if layout.get("max_length"):
        return int(layout["max_length"])
    body = layout["transformer"]
    limits = [DEFAULT_MAX_LENGTH]
    limits.append(int(_read_json(body / "tokenizer_config.json").get("model_max_length") or 0))
    limits.append(int(_read_json(body / "config.json").get("max_position_embeddings") or 0))
    return min(n for n in limits if n > 0)


def _tokenizer(body: Path, max_length: int | None):
    """The fast tokenizer of `body` (`tokenizer.json`), set up like the torch path's call
    `tokenizer(texts, padding=True, truncation=True, max_length=max_length)`: pad to the
    longest text of a batch (not to the fixed length a tokenizer.json may carry), truncate
    longest-first (none when `max_length` is None)."""
    from tokenizers import Tokenizer

    file = body / "tokenizer.json"
    if not file.is_file():
        raise ModelError(
            f"model {body}: no tokenizer.json, which the ONNX backend reads. Re-save the model "
            "with a fast tokenizer (AutoTokenizer(...).save_pretrained), or use "
            "ASSISTANT_BACKEND=torch."
        )
    tokenizer = Tokenizer.from_file(str(file))
    config = _read_json(body / "tokenizer_config.json")
    pad_token = config.get("pad_token")
    if isinstance(pad_token, dict):  # older configs store an AddedToken
        pad_token = pad_token.get("content")
    baked = tokenizer.padding or {}
    pad_token = pad_token or baked.get("pad_token") or "[PAD]"
    pad_id = tokenizer.token_to_id(pad_token)
    if pad_id is None:
        raise ModelError(f"model {body}: pad token {pad_token!r} is not in tokenizer.json.")
    tokenizer.enable_padding(
        direction=config.get("padding_side", "right"),
        pad_id=pad_id,
        pad_type_id=int(baked.get("pad_type_id", 0)),
        pad_token=pad_token,
        length=None,
    )
    tokenizer.no_truncation()
    if max_length is not None:
        _truncate(tokenizer, max_length, config.get("truncation_side", "right"))
    return tokenizer


def _truncate(tokenizer, max_length: int, side: str = "right") -> None:
    tokenizer.enable_truncation(max_length, strategy="longest_first", direction=side)


def _features(tokenizer, texts: list[str]) -> dict[str, np.ndarray]:
    """int64 (B, T) arrays input_ids, attention_mask, token_type_ids of a padded batch."""
    encodings = tokenizer.encode_batch(texts)
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }


# -- inference ----------------------------------------------------------------------------------
def pool(
    hidden: np.ndarray, mask: np.ndarray, modes=("mean",), normalize: bool = True
) -> np.ndarray:
    """Sentence vectors from token vectors, float32: the `modes` (`kb.encoder.POOLING_MODES`)
    concatenated, as sentence-transformers does, L2-normalised by default.
    hidden: (B, T, H), mask: (B, T) -> (B, H * len(modes)).

    >>> h = np.array([[[1.0, 0.0], [0.0, 1.0], [9.0, 9.0]]], dtype=np.float32)
    >>> pool(h, np.array([[1, 1, 0]]), normalize=False).tolist()
    [[0.5, 0.5]]
    """
    hidden = hidden.astype(np.float32, copy=False)
    m = mask.astype(np.float32)[:, :, None]
    parts = []
    for mode in modes:
        if mode == "cls":
            parts.append(hidden[:, 0])
        elif mode == "max":
            parts.append(np.where(m > 0, hidden, np.finfo(np.float32).min).max(axis=1))
        elif mode in ("mean", "mean_sqrt_len_tokens"):
            count = np.maximum(m.sum(axis=1), 1e-9)
            parts.append((hidden * m).sum(axis=1) / (count if mode == "mean" else np.sqrt(count)))
        elif mode == "lasttoken":  # the last real token of each row (any padding side)
            last = (np.arange(mask.shape[1])[None, :] * (mask > 0)).argmax(axis=1)
            parts.append(hidden[np.arange(hidden.shape[0]), last])
        else:
            raise ModelError(f"pooling mode {mode!r} is not supported by the ONNX backend")
    out = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)
    if normalize:
        out = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out


def _verify_export(folder: Path, model_dir: Path) -> None:
    """Check the export's files against the sizes and sha256 recorded when it was made
    (`kb.manifest.verify_checksums`, cached by stat); a damaged one is a ModelError naming it
    and the command that exports it again."""
    from kb.manifest import verify_checksums

    files = _read_json(folder / EXPORT_INFO).get("files") or {}
    verify_checksums(
        folder,
        files,
        error=ModelError,
        fix=f"export it again with `python -m kb.onnx_backend export {model_dir}`",
        what="ONNX export",
        listed_in=folder / EXPORT_INFO,
    )


def _session(graph: Path, threads: int):
    """An ONNX Runtime CPU session with all graph optimisations and `threads` intra-op
    threads; operators run one after the other (a chain of layers gains nothing from
    inter-op parallelism), idle threads sleep rather than spin. (The memory arena stays
    on: without it a 600-turn replay ended at 422 MB resident instead of 371 MB.)"""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors
        raise ModelError(
            f"{graph}: ONNX Runtime cannot load it ({exc}). Delete it and run `python -m "
            f"kb.onnx_backend export {graph.parent.parent}`."
        ) from None


class OnnxEncoder:
    """Tokenizer (Rust) + ONNX Runtime transformer + pooling (numpy): the inference encoder
    without torch, with the interface of the torch `kb.encoder.Encoder` for inference.

    The same embeddings as the torch encoder of the directory (cosine >= 0.9999). `threads`
    is ONNX Runtime's intra-op thread count, fixed when the encoder is loaded.

    >>> enc = OnnxEncoder.load(bundled_model_path())      # doctest: +SKIP
    >>> enc.encode(["where is my order?"]).shape          # doctest: +SKIP
    (1, 384)
    """

    backend = "onnx"
    precision = "fp32"

    def __init__(self, path: Path, session, tokenizer, layout: dict, max_length: int) -> None:
        self.path = path
        self.session = session
        self.tokenizer = tokenizer
        self.pooling = tuple(layout["pooling"])
        self.lower_case = bool(layout["lower_case"])
        self._max_length = int(max_length)
        self._inputs = [i.name for i in session.get_inputs()]
        self._lock = threading.Lock()
        self._truncation_side = (tokenizer.truncation or {}).get("direction", "right")
        hidden = session.get_outputs()[0].shape[-1]
        if not isinstance(hidden, int):  # a symbolic width: ask the model's config
            config = _read_json(layout["transformer"] / "config.json")
            hidden = int(config["hidden_size"])
        self._dim = int(hidden) * len(self.pooling)

    @classmethod
    def load(
        cls,
        model_dir: str | os.PathLike,
        max_length: int | None = None,
        threads: int = 1,
        export: bool = True,
    ) -> OnnxEncoder:
        """Load the export of `model_dir` and its tokenizer.

        `max_length` defaults to the directory's (sentence_bert_config.json), as in the torch
        path. With `export`, a missing or stale export is made first (`ensure_export`, in a
        child process); without, that is a ModelError naming the command to run.
        """
        path = Path(model_dir)
        if not (path / "config.json").is_file():
            raise ModelError(f"model {path}: no config.json there; not a model directory.")
        layout = _read_layout(path)
        graph = ensure_export(path) if export else find_export(path)
        if graph is None:
            raise ModelError(
                f"model {path}: no current ONNX export ({export_status(path)}). Run `python -m "
                f"kb.onnx_backend export {path}`, or use ASSISTANT_BACKEND=torch."
            )
        _verify_export(graph.parent, path)
        limit = max_length or configured_max_length(layout)
        tokenizer = _tokenizer(layout["transformer"], limit)
        return cls(path, _session(graph, threads), tokenizer, layout, limit)

    @property
    def dim(self) -> int:
        """Width of an embedding."""
        return self._dim

    dimension = dim  # the name the knowledge base used

    @property
    def max_length(self) -> int:
        """Token limit a text is truncated to unless a call gives another."""
        return self._max_length

    @property
    def max_seq_length(self) -> int:
        return self._max_length

    @property
    def fingerprint(self) -> str:
        """`model_fingerprint` of the directory this encoder was loaded from."""
        from kb.paths import model_fingerprint

        return model_fingerprint(self.path)

    def save(self, out_dir: str | os.PathLike, max_length: int | None = None) -> None:
        """Write the model as `kb.encoder.Encoder.save` does (weights, tokenizer,
        sentence-transformers files, the export). Saving is a training-side step: it loads
        the directory's weights with torch."""
        from kb.encoder import Encoder

        torch_encoder = Encoder.load(self.path, precision="fp32", max_length=self._max_length)
        torch_encoder.save(out_dir, max_length=max_length)

    def _tokenize(self, texts: list[str], max_length: int) -> dict[str, np.ndarray]:
        # One tokenizer, whose truncation callers change (ranker contexts and replies have
        # their own limits), shared by threads: set and use it under a lock.
        with self._lock:
            current = self.tokenizer.truncation or {}
            if current.get("max_length") != max_length:
                _truncate(self.tokenizer, max_length, self._truncation_side)
            return _features(self.tokenizer, texts)

    def encode(
        self,
        texts,
        batch_size: int = 32,
        max_length: int | None = None,
        progress=None,
        processes: int = 1,
    ) -> np.ndarray:
        """Embeddings of `texts`: (len(texts), dim), float32, rows of unit length.

        Texts are sorted by length so each batch carries little padding; inputs longer than
        `max_length` tokens (default: the encoder's) are truncated. `progress` is True for a
        tqdm bar or a tqdm-like bar to advance; `processes` is accepted for the interface and
        ignored (ONNX Runtime uses the threads it was loaded with).
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        max_length = max_length or self._max_length
        # as sentence-transformers does: surrounding whitespace off, lower-cased if configured;
        # absurdly long strings cut before tokenising (the tokenizer truncates the rest)
        limit = max_length * 12
        clipped = [t.strip()[:limit] for t in texts]
        if self.lower_case:
            clipped = [t.lower() for t in clipped]
        order = np.argsort([-len(t) for t in clipped], kind="stable")
        bar = own_bar = None
        if progress is True:
            from tqdm import tqdm

            bar = own_bar = tqdm(total=len(texts), desc="encoding", unit="text", leave=False)
        elif progress:
            bar = progress
        try:
            for start in range(0, len(texts), batch_size):
                rows = order[start : start + batch_size]
                features = self._tokenize([clipped[i] for i in rows], max_length)
                hidden = self.session.run(None, {n: features[n] for n in self._inputs})[0]
                out[rows] = pool(hidden, features["attention_mask"], self.pooling)
                if bar is not None:
                    bar.update(len(rows))
        finally:
            if own_bar is not None:
                own_bar.close()
        return out


def main(argv: list[str] | None = None) -> int:
    """`python -m kb.onnx_backend export DIR...`: export each model directory."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2 or args[0] != "export":
        print("usage: python -m kb.onnx_backend export MODEL_DIR [MODEL_DIR...]", file=sys.stderr)
        return 2
    for model_dir in args[1:]:
        t0 = time.perf_counter()
        try:
            graph = export_onnx(model_dir)
        except ModelError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"{graph} ({time.perf_counter() - t0:.1f} s)")
    return 0


__all__ = [
    "OnnxEncoder",
    "ensure_export",
    "export_onnx",
    "export_status",
    "find_export",
    "pool",
]

if __name__ == "__main__":
    raise SystemExit(main())
