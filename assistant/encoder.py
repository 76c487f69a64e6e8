"""A sentence encoder: a transformer with mean pooling, loaded from a local directory.

Reads any `transformers` / `sentence-transformers` model directory (safetensors only).
Used by the intent classifier and the response ranker at run time and, for fine-tuning,
by `training/`. Torch is imported when an encoder is created, not when this module is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.errors import ModelError

if TYPE_CHECKING:  # pragma: no cover
    import torch


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average token vectors, ignoring padding. hidden: (B, T, H), mask: (B, T) -> (B, H)."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def bf16_supported() -> bool:
    """True when this CPU has native bfloat16 instructions (autocast is then a real speed-up)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision: str = "auto") -> str:
    """ "fp32" or "bf16" for a loaded model's weights; "auto" picks bf16 where the CPU computes
    it natively (`bf16_supported`) unless the environment sets ASSISTANT_PRECISION=fp32.

    On this project's 2-core reference CPU a single-message encode takes 1.5x less time in
    bf16, and embeddings keep a cosine >= 0.9999 to float32 ones (docs/benchmarks.md).
    For inference only: training keeps float32 weights (with bf16 autocast).
    """
    import os

    if precision == "auto":
        forced = os.environ.get("ASSISTANT_PRECISION", "").strip().lower()
        if forced and forced not in ("fp32", "bf16"):
            raise ModelError(f"ASSISTANT_PRECISION must be fp32 or bf16, got {forced!r}")
        precision = forced or ("bf16" if bf16_supported() else "fp32")
    if precision not in ("fp32", "bf16"):
        raise ModelError(f"precision must be auto, fp32 or bf16, got {precision!r}")
    return precision


class Encoder:
    """Tokenizer + transformer + mean pooling.

    >>> enc = Encoder(bundled_model_path())          # doctest: +SKIP
    >>> enc.encode(["where is my order?"]).shape       # doctest: +SKIP
    (1, 384)
    """

    def __init__(
        self, path: str | Path, max_length: int | None = None, precision: str = "fp32"
    ) -> None:
        """Load `path`; `precision` is "fp32", "bf16" or "auto" (see `resolve_precision`)."""
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()  # no 'Loading weights' bar on every start
        path = Path(path)
        if not (path / "config.json").is_file():
            raise ModelError(f"{path}: not a model directory (no config.json).")
        if not any(path.glob("*.safetensors")):
            raise ModelError(
                f"{path}: no .safetensors weights. Only safetensors models are loaded "
                "(re-save the model with safe_serialization=True)."
            )
        self.path = path
        self.precision = resolve_precision(precision)
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            self.model = AutoModel.from_pretrained(
                str(path), local_files_only=True, use_safetensors=True, dtype=dtype
            )
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: cannot load the model: {exc}") from None
        self.model.eval()
        self.max_length = max_length or self._configured_max_length()
        self._torch = torch

    def _configured_max_length(self) -> int:
        cfg = self.path / "sentence_bert_config.json"
        if cfg.is_file():
            return int(json.loads(cfg.read_text()).get("max_seq_length", 256))
        return min(int(getattr(self.tokenizer, "model_max_length", 512) or 512), 512)

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def tokenize(self, texts: list[str], max_length: int | None = None) -> dict:
        return self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=max_length or self.max_length,
            return_tensors="pt",
        )

    def embed(self, batch: dict) -> torch.Tensor:
        """Mean-pooled embeddings (not normalised) with gradients, for training. (B, H)."""
        out = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        return mean_pool(out.last_hidden_state, batch["attention_mask"])

    def encode(
        self,
        texts: list[str],
        batch_size: int = 64,
        normalize: bool = True,
        max_length: int | None = None,
        bf16: bool = False,
        progress: bool = False,
    ) -> np.ndarray:
        """Embed texts for inference: float32 array (N, H), L2-normalised by default.

        Texts are sorted by length so batches carry little padding.
        """
        torch = self._torch
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        starts = range(0, len(texts), batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="encoding", unit="batch", leave=False)
        was_training = self.model.training
        self.model.eval()
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            for s in starts:
                idx = order[s : s + batch_size]
                batch = self.tokenize([texts[i] for i in idx], max_length)
                emb = self.embed(batch).float()
                if normalize:
                    emb = torch.nn.functional.normalize(emb, dim=-1)
                out[idx] = emb.numpy()
        self.model.train(was_training)
        return out

    def save(self, out_dir: str | Path, max_length: int | None = None) -> None:
        """Write weights (safetensors), tokenizer and the sentence-transformers module files."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(out), safe_serialization=True)
        self.tokenizer.save_pretrained(str(out))
        (out / "1_Pooling").mkdir(exist_ok=True)
        (out / "1_Pooling" / "config.json").write_text(
            json.dumps(
                {"word_embedding_dimension": self.dim, "pooling_mode_mean_tokens": True}, indent=2
            )
        )
        (out / "modules.json").write_text(
            json.dumps(
                [
                    {
                        "idx": 0,
                        "name": "0",
                        "path": "",
                        "type": "sentence_transformers.models.Transformer",
                    },
                    {
                        "idx": 1,
                        "name": "1",
                        "path": "1_Pooling",
                        "type": "sentence_transformers.models.Pooling",
                    },
                    {
                        "idx": 2,
                        "name": "2",
                        "path": "2_Normalize",
                        "type": "sentence_transformers.models.Normalize",
                    },
                ],
                indent=2,
            )
        )
        (out / "2_Normalize").mkdir(exist_ok=True)
        (out / "sentence_bert_config.json").write_text(
            json.dumps({"max_seq_length": max_length or self.max_length, "do_lower_case": False})
        )
