"""The training harness the intent and ranker trainers share.

A trainer describes only what is its own, as a `TrainingTask`: the module it trains, its
batches, its loss and its validation metric. `Trainer` does the rest, the same way for both:

  setup      check `--out` before any work (`training.output`), start DDP under torchrun
             (`training.distributed`: gloo on CPU), seed Python, NumPy and torch
  encoder    resolve the base model, freeze what is not trained
  fit        AdamW (no weight decay on biases / LayerNorm), linear warm-up/decay, gradient
             clipping, one validation per epoch, early stopping, selection of the best epoch
             (epoch 0 is the starting model: the probe, the base encoder)
  save       on rank 0 only, into a fresh directory that replaces `--out` once complete

Without validation data there is nothing to select on: every epoch runs and the last one is
kept, and the log says so.

    with Trainer(TrainerArgs(seed=0, epochs=3), out="models/intent", kind="intent") as run:
        encoder = run.load_encoder(None)                 # the bundled MiniLM
        task = MyTask(encoder, ...)                      # module, batches, loss, evaluate
        chosen = run.fit(task, baseline=task.evaluate())
        manifest = run.save(lambda tmp: write_model(tmp))
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.errors import ConfigError
from training import distributed as dist
from training.data import fingerprint
from training.output import check_out_dir, write_artifact

# Validation scores are fractions of validation items: a smaller gain is no gain.
MIN_IMPROVEMENT = 1e-6


def _layers(model) -> list:
    """The transformer layers of a Hugging Face encoder, lowest first (BERT-like models keep
    them in `encoder.layer`)."""
    import torch

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and name.rsplit(".", 1)[-1] in (
            "layer",
            "layers",
        ):
            return list(module)
    raise ConfigError(
        f"freeze_layers: no list of transformer layers in {type(model).__name__}; use 0"
    )


def seed_everything(seed: int) -> None:
    """Seed every random generator training draws from (Python, NumPy, torch)."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def warmup_linear(opt, total_steps: int, warmup_ratio: float):
    """Learning rate rising linearly over the first `warmup_ratio` of steps, then falling to 0."""
    import torch

    warm = int(total_steps * warmup_ratio)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / max(1, warm)
        return max(0.0, (total_steps - step) / max(1, total_steps - warm))

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def fmt(value: float | None, spec: str = ".4f") -> str:
    """A metric for the log; "n/a" where there was nothing to measure it on.

    >>> fmt(0.5), fmt(None)
    ('0.5000', 'n/a')
    """
    return "n/a" if value is None else format(value, spec)


@dataclass
class Evaluation:
    """One validation of the model being trained (or of the starting model, epoch 0)."""

    score: float | None  # what selection maximises; None: no validation data
    metrics: dict  # recorded in the history and the manifest
    summary: str  # one line for the log
    extra: dict = field(default_factory=dict)  # further history fields (e.g. a threshold)
    payload: Any = None  # kept with the selected epoch (e.g. the validation score matrix)


@dataclass
class Selection:
    """The outcome of `Trainer.fit`; the task's module then holds the selected weights."""

    epoch: int  # 0: the starting model won (or no epoch ran)
    evaluation: Evaluation  # the selected epoch's validation
    history: list[dict]  # per epoch: {"epoch", "loss", "val", **extra}
    validated: bool  # False: no validation data, the last epoch was kept


class TrainingTask(Protocol):
    """What a trainer supplies to `Trainer.fit`."""

    module: Any  # torch.nn.Module trained (DDP wraps it); its state is what selection keeps

    def param_groups(self) -> list[dict]:
        """AdamW parameter groups (each with its "lr" and "weight_decay")."""

    def steps_per_epoch(self) -> int:
        """Optimiser steps of one epoch on this rank (sizes the learning-rate schedule)."""

    def batches(self, epoch: int) -> list[list[int]]:
        """This rank's batches of example indices for one epoch, in order."""

    def loss(self, model: Any, batch: list[int]) -> Any:
        """The scalar loss of one batch; `model` is `module`, wrapped in DDP when distributed."""

    def evaluate(self) -> Evaluation:
        """Validate the module as it is now (called in eval mode, once per epoch)."""


@dataclass
class TrainerArgs:
    """The loop settings both trainers share (each config fills them from its own fields)."""

    seed: int = 0  # seeds Python, NumPy and torch at setup
    epochs: int = 1  # maximum epochs; 0: keep the starting model
    warmup_ratio: float = 0.1  # fraction of steps with linearly rising learning rate
    patience: int | None = None  # epochs without improvement before stopping; None: never stop
    bf16: bool | None = None  # bfloat16 autocast; None: on when the CPU supports it natively
    max_grad_norm: float = 1.0  # gradient clipping
    log_every: int = 10  # steps between loss updates of the progress bar

    def __post_init__(self) -> None:
        if self.epochs < 0:
            raise ConfigError(f"epochs must be >= 0, got {self.epochs}")
        if self.patience is not None and self.patience < 1:
            raise ConfigError(f"patience must be >= 1, got {self.patience}")


class Trainer:
    """One training run from setup to save; use as a context manager (see the module doc)."""

    def __init__(
        self, args: TrainerArgs, out: str | Path, kind: str, log: Callable[[str], None] = print
    ) -> None:
        self.args = args
        self.out = Path(out)
        self.kind = kind  # the artifact kind written, as in its manifest ("intent", "ranker")
        self._log = log
        self.start = time.time()
        self.base_model: Path | None = None  # set by load_encoder
        self.bf16 = False  # autocast in training steps; set by load_encoder
        self.governor = None  # training.threads.ThreadGovernor, from __enter__ on

    # setup ---------------------------------------------------------------------------------
    def __enter__(self) -> Trainer:
        # Refuse a bad --out before any work (on every rank, so all of them stop).
        check_out_dir(self.out, self.kind)
        self.start = time.time()
        dist.setup()
        seed_everything(self.args.seed)
        if dist.world()[1] == 1:  # under torchrun the processes share the cores (dist.setup)
            import torch

            from training.threads import ThreadGovernor

            self._threads_before = torch.get_num_threads()  # restored on exit
            self.governor = ThreadGovernor(log=self.say)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.governor is not None:  # the process's thread count as it was before training
            import torch

            torch.set_num_threads(self._threads_before)
        if exc_type is None:
            dist.barrier()
        dist.teardown()

    @property
    def main(self) -> bool:
        """True on the process that logs and saves (rank 0; the only one outside torchrun)."""
        return dist.is_main()

    def say(self, message: str) -> None:
        """Log from rank 0 only."""
        if self.main:
            self._log(message)

    # encoder ---------------------------------------------------------------------------------
    def load_encoder(self, base_model: str | None, max_length: int | None = None):
        """The encoder to fine-tune (`kb.encoder.Encoder`, float32 weights); also
        decides bf16 autocast."""
        from kb.encoder import Encoder, cpu_has_bf16
        from kb.paths import resolve_model_path

        self.base_model = resolve_model_path(base_model)
        self.bf16 = cpu_has_bf16() if self.args.bf16 is None else self.args.bf16
        return Encoder.load(self.base_model, max_length=max_length)

    @staticmethod
    def freeze(encoder, embeddings: bool, layers: int = 0) -> None:
        """Freeze the word-embedding matrix (when `embeddings`), the lowest `layers`
        transformer layers (with the whole embedding block, their input) and the unused
        pooler. Nothing below the lowest trained layer needs a gradient, so a step's backward
        pass stops there."""
        model = encoder.model
        if embeddings or layers:
            model.embeddings.word_embeddings.weight.requires_grad_(False)
        if layers:
            blocks = _layers(model)
            if layers >= len(blocks):
                raise ConfigError(
                    f"freeze_layers must be below the model's {len(blocks)} layers, got {layers}"
                )
            for module in (model.embeddings, *blocks[:layers]):
                module.requires_grad_(False)
        dist.freeze_unused(model)

    @staticmethod
    def decay_groups(module, lr: float, weight_decay: float) -> list[dict]:
        """AdamW groups of a module's trainable parameters: matrices decay, biases and
        LayerNorm weights (1-d) do not."""
        params = [p for p in module.parameters() if p.requires_grad]
        return [
            {"params": [p for p in params if p.ndim != 1], "lr": lr, "weight_decay": weight_decay},
            {"params": [p for p in params if p.ndim == 1], "lr": lr, "weight_decay": 0.0},
        ]

    def autocast(self):
        """bfloat16 autocast for a training forward pass (a no-op when bf16 is off)."""
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16)

    # fit ---------------------------------------------------------------------------------------
    def fit(self, task: TrainingTask, baseline: Evaluation) -> Selection:
        """Train `task.module` for up to `args.epochs` epochs and leave it holding the selected
        weights: the best validation score, the starting model (`baseline`) included."""
        import torch

        args, net = self.args, task.module
        validated = baseline.score is not None
        if not validated and args.epochs:
            self.say(
                "no validation data: no early stopping and no model selection; "
                "keeping the model after the last epoch"
            )
        model = dist.wrap(net)
        opt = torch.optim.AdamW(task.param_groups())
        total = max(1, task.steps_per_epoch() * args.epochs)
        sched = warmup_linear(opt, total, args.warmup_ratio)
        # The starting model's weights compete too; the copy is replaced by a better epoch's.
        best_state = copy.deepcopy(net.state_dict()) if validated and args.epochs else None
        best_epoch, best_eval, best_score = 0, baseline, baseline.score or 0.0
        history: list[dict] = []
        bad_epochs = 0
        for epoch in range(1, args.epochs + 1):
            net.train()
            batches = task.batches(epoch)
            steps = batches
            if self.main:
                from tqdm import tqdm

                steps = tqdm(batches, desc=f"epoch {epoch}/{args.epochs}", unit="step", leave=False)
            run_loss = 0.0
            for i, batch in enumerate(steps):
                if self.governor is not None:  # the cores other processes leave free
                    self.governor.adjust(min_interval=0.2 if epoch == 1 and i == 0 else 2.0)
                loss = task.loss(model, batch)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), args.max_grad_norm)
                opt.step()
                sched.step()
                opt.zero_grad(set_to_none=True)
                run_loss += loss.item()
                if self.main and i % args.log_every == 0:
                    steps.set_postfix(loss=f"{run_loss / (i + 1):.3f}")
            net.eval()
            ev = task.evaluate()
            mean_loss = run_loss / max(1, len(batches))
            history.append({"epoch": epoch, "loss": mean_loss, "val": ev.metrics, **ev.extra})
            self.say(f"epoch {epoch}: loss {mean_loss:.4f}, {ev.summary}")
            if not validated:
                best_epoch, best_eval = epoch, ev
                continue
            if (ev.score or 0.0) > best_score + MIN_IMPROVEMENT:
                best_epoch, best_eval, best_score = epoch, ev, ev.score or 0.0
                best_state = copy.deepcopy(net.state_dict())
                bad_epochs = 0
            else:
                bad_epochs += 1
            patience = args.patience
            stop = patience is not None and bad_epochs >= patience and epoch < args.epochs
            # Rank 0 decides, so that every process leaves the loop after the same epoch.
            if dist.broadcast_flag(stop):
                self.say(f"early stopping after epoch {epoch} (best epoch {best_epoch})")
                break
        if best_state is not None:
            net.load_state_dict(best_state)
        return Selection(best_epoch, best_eval, history, validated)

    # save --------------------------------------------------------------------------------------
    def provenance(self, config: dict, data: str, val: str | None) -> dict:
        """Manifest fields every trained artifact carries: base model, config, data
        fingerprint, library versions, training time and date."""
        from kb.manifest import library_versions

        return {
            "base_model": str(self.base_model),
            "config": config,
            "data_fingerprint": {
                "data": fingerprint(data),
                "val": fingerprint(val) if val else None,
            },
            "library_versions": library_versions(),
            "train_time_s": round(time.time() - self.start, 1),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def save(self, write: Callable[[Path], dict]) -> dict:
        """On rank 0: `write(tmp)` fills a fresh directory (returns its manifest), which then
        replaces `out` (see `training.output.write_artifact`). Returns the manifest; {} on the
        other ranks."""
        if not self.main:
            return {}
        with write_artifact(self.out, self.kind) as artifact:
            artifact.manifest = write(artifact.path)
        if artifact.kept is not None:
            self.say(
                f"warning: files appeared in the previous model while it was being replaced; "
                f"it was kept in {artifact.kept}"
            )
        self.say(f"saved {self.out} in {time.time() - self.start:.0f}s")
        return artifact.manifest
