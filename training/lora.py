"""LoRA adapters (peft) on the encoder: train a few low-rank matrices instead of the whole body,
then fold them into the weights so that the saved model is an ordinary one.

    adapters = LoraAdapters.attach(encoder, LoraSettings(rank=8))   # freezes the body
    ...train: only the adapters (and the caller's head) have gradients...
    info = adapters.merge(model_dir / "lora", check_texts)          # W <- W + (alpha/r) B A

The runtime never sees peft or torch: it loads the merged weights and their ONNX export like
those of any fine-tuned model. The adapter files are kept beside them in `lora/`
(`adapter_model.safetensors` + `adapter_config.json`, the layout peft's `PeftModel
.from_pretrained` reads) as the record of what was learned and of what a version would weigh
if only adapters were stored; nothing loads them at run time.

peft is an optional extra: `pip install 'offline-assistant[lora]'` (or `pip install peft`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ConfigError, ModelError

# What the adapters are put on (the names of a BERT-like encoder's linear layers).
LORA_TARGETS = {
    # the attention's query and value projections (the LoRA paper's choice)
    "query-value": ["query", "value"],
    # every linear layer of the transformer blocks: attention q/k/v and output, both MLP layers
    "all-linear": "all-linear",
}
ADAPTER_DIR = "lora"  # inside the model directory
ADAPTER_WEIGHTS = "adapter_model.safetensors"  # peft's file names
ADAPTER_CONFIG = "adapter_config.json"
# The merged model must give the embeddings the adapters gave (fp32 rounding only).
MERGE_TOLERANCE = 1e-4


@dataclass
class LoraSettings:
    """How the encoder is adapted (`IntentTrainConfig` fills this from its lora_* fields)."""

    rank: int = 8  # rank of each adapter's A (r x in) and B (out x r) matrices
    alpha: float | None = None  # scale numerator: the update is (alpha / rank) B A; None: 2 x rank
    targets: str = "query-value"  # a key of LORA_TARGETS
    dropout: float = 0.0  # dropout on the adapters' input (the body keeps its own dropout)

    def __post_init__(self) -> None:
        if self.rank < 1:
            raise ConfigError(f"LoRA rank must be >= 1, got {self.rank}")
        if self.alpha is not None and self.alpha <= 0:
            raise ConfigError(f"LoRA alpha must be > 0, got {self.alpha}")
        if self.targets not in LORA_TARGETS:
            raise ConfigError(
                f"LoRA targets must be one of {sorted(LORA_TARGETS)}, got {self.targets!r}"
            )
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"LoRA dropout must be in [0, 1), got {self.dropout}")

    @property
    def scale_alpha(self) -> float:
        return float(self.alpha if self.alpha is not None else 2 * self.rank)


def require_peft():
    """The peft module, or a ConfigError saying how to install it."""
    try:
        import peft
    except ImportError:
        raise ConfigError(
            "LoRA training needs peft, which is not installed: pip install "
            "'offline-assistant[lora]' (or pip install peft), or train without --lora-rank."
        ) from None
    return peft


class LoraAdapters:
    """LoRA adapters attached to an encoder's transformer (`kb.encoder.Encoder.model`).

    The adapters are injected into `encoder.model` in place (it stays the same module, so the
    encoder's own `encode` and a network built on `encoder.model` use them); every weight of the
    body is frozen and only the adapters are trainable.
    """

    def __init__(self, encoder, peft_model, settings: LoraSettings) -> None:
        self.encoder = encoder
        self.peft_model = peft_model  # peft.PeftModel around encoder.model
        self.settings = settings

    @classmethod
    def attach(cls, encoder, settings: LoraSettings) -> LoraAdapters:
        """Put adapters on `encoder.model` (B starts at zero: the model is unchanged until
        trained) and freeze everything else in it."""
        peft = require_peft()
        targets = LORA_TARGETS[settings.targets]
        config = peft.LoraConfig(
            r=settings.rank,
            lora_alpha=settings.scale_alpha,
            lora_dropout=settings.dropout,
            target_modules=targets,
            # BERT's pooler is never used (mean pooling): an adapter there would get no
            # gradient (DDP refuses that) and only add weight.
            exclude_modules=["pooler.dense"] if targets == "all-linear" else None,
            bias="none",
        )
        try:
            with warnings.catch_warnings():
                # peft asks transformers about gradient checkpointing by a deprecated name
                warnings.filterwarnings("ignore", "`is_gradient_checkpointing`", FutureWarning)
                peft_model = peft.get_peft_model(encoder.model, config)
        except ValueError as exc:  # peft: "Target modules ... not found in the base model"
            raise ConfigError(
                f"LoRA targets {settings.targets!r} do not fit the encoder "
                f"{encoder.path or type(encoder.model).__name__} ({exc}). Use --lora-targets "
                "all-linear, or full fine-tuning (no --lora-rank)."
            ) from None
        return cls(encoder, peft_model, settings)

    def parameters(self) -> tuple[int, int]:
        """(trainable adapter parameters, all parameters of the encoder with adapters)."""
        trainable = sum(p.numel() for p in self.encoder.model.parameters() if p.requires_grad)
        total = sum(p.numel() for p in self.encoder.model.parameters())
        return trainable, total

    def merge(self, adapter_dir: str | Path, check_texts: list[str]) -> dict:
        """Write the adapter files to `adapter_dir`, fold the adapters into the encoder's
        weights (the encoder is then a plain transformer again) and check that the merged
        encoder embeds `check_texts` as the adapted one did. Returns the manifest's "lora"
        entry (settings, sizes).

        Raises ModelError when the merged encoder disagrees (a peft bug or an unsupported
        layer): saving it would ship a model other than the one validated.
        """
        import numpy as np
        import torch
        from safetensors.torch import save_file

        peft = require_peft()
        out = Path(adapter_dir)
        out.mkdir(parents=True, exist_ok=True)
        state = peft.get_peft_model_state_dict(self.peft_model)  # lora_A / lora_B weights
        save_file(
            {k: v.detach().float().contiguous() for k, v in state.items()},
            str(out / ADAPTER_WEIGHTS),
        )
        self.peft_model.peft_config["default"].save_pretrained(str(out))
        trainable, total = self.parameters()
        modules = sum(1 for k in state if "lora_A" in k)
        before = self.encoder.encode(check_texts, autocast=False) if check_texts else None
        with torch.no_grad():
            merged = self.peft_model.merge_and_unload()
        self.encoder.model = merged  # the same module, its LoRA layers replaced by plain ones
        merged.requires_grad_(False)
        error = 0.0
        if before is not None:
            after = self.encoder.encode(check_texts, autocast=False)
            error = float(np.abs(after - before).max())
            if not error <= MERGE_TOLERANCE:
                raise ModelError(
                    f"merging the LoRA adapters changed the embeddings by up to {error:.2e} "
                    f"(tolerance {MERGE_TOLERANCE:.0e}) on {len(check_texts)} texts; nothing "
                    "was saved. Train without --lora-rank, or report this with the peft "
                    f"version ({peft.__version__})."
                )
        return {
            "rank": self.settings.rank,
            "alpha": self.settings.scale_alpha,
            "targets": self.settings.targets,
            "dropout": self.settings.dropout,
            "adapted_modules": modules,
            "adapter_params": trainable,
            "encoder_params": total,
            "adapter_bytes": (out / ADAPTER_WEIGHTS).stat().st_size,
            "adapter_files": [f"{out.name}/{ADAPTER_WEIGHTS}", f"{out.name}/{ADAPTER_CONFIG}"],
            "merged": True,  # the saved weights include the adapters; the runtime loads those
            "merge_max_abs_error": error,
            "peft_version": peft.__version__,
        }


__all__ = ["LORA_TARGETS", "LoraAdapters", "LoraSettings", "require_peft"]
