"""Fine-tune the intent classifier.

The recipe, in order:
  1. data      read and validate examples; hold out a validation split if none is given
  2. probe     frozen embeddings + logistic regression (the one-minute baseline)
  3. fine-tune encoder + linear head, the head warm-started from the probe, with separate
               learning rates for head and body, linear warm-up/decay and early stopping;
               with `lora_rank` > 0 the body stays frozen and LoRA adapters (peft,
               `training.lora`) learn its update instead, merged into the weights at save
  4. select    keep whichever of probe / fine-tuned scores better on validation
  5. threshold pick the out-of-scope confidence threshold on validation data only
  6. save      encoder (safetensors), head, manifest, metrics and the report

Setup, the fine-tuning loop, selection and saving are `training.trainer`'s; this module holds
the classifier's own data, loss and metric. Without validation examples (tiny data) the
probe is still trained, every epoch runs, the last one is kept and the threshold is 0.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from assistant.errors import ConfigError, DataError
from training import distributed as dist
from training.data import load_intent_examples, validate_intent_examples
from training.metrics import choose_threshold, intent_metrics
from training.split import length_grouped_batches, split_examples
from training.trainer import Evaluation, Trainer, TrainerArgs, fmt

OOS_MODES = ("class", "threshold", "both")


@dataclass
class IntentTrainConfig:
    data: str  # intent CSV or dialogues JSONL
    out: str  # output model directory
    val: str | None = None  # validation file; None: hold out `val_fraction` of `data`
    base_model: str | None = None  # local model directory; None: the bundled MiniLM
    epochs: int = 3  # maximum fine-tuning epochs (early stopping may end sooner)
    seed: int = 0  # seeds data split, shuffling and initialisation
    batch_size: int = 32  # examples per optimiser step (per process under torchrun)
    lr_body: float = 1e-4  # peak learning rate of the transformer
    lr_head: float = 2e-3  # peak learning rate of the linear head
    weight_decay: float = 0.01  # AdamW weight decay (not on biases / LayerNorm)
    warmup_ratio: float = 0.1  # fraction of steps with linearly rising learning rate
    max_length: int = 64  # tokens per message; longer messages are truncated
    val_fraction: float = 0.1  # share held out for validation when `val` is None
    patience: int = 2  # epochs without validation improvement before stopping
    oos_label: str = "oos"  # label meaning "none of our intents"
    oos_mode: str = "both"  # "class": oos is a class; "threshold": reject below a threshold; both
    probe_c: float = 2.0  # inverse L2 strength of the logistic-regression probe
    label_smoothing: float = 0.1  # keeps gradients alive after the warm start from the probe
    oos_weight: float = 3.0  # loss weight of the out-of-scope class (rare, but errors there matter)
    max_accuracy_drop: float = 0.003  # in-scope accuracy the oos threshold may cost on validation
    freeze_embeddings: bool = True  # keep the word-embedding matrix fixed (faster, less overfit)
    freeze_layers: int = 0  # lowest transformer layers kept fixed (a shorter backward pass)
    lora_rank: int = 0  # > 0: train LoRA adapters of this rank instead of the body (needs peft)
    lora_targets: str = "query-value"  # layers with adapters: "query-value" or "all-linear"
    lora_alpha: float | None = None  # adapter scale numerator (update = alpha/rank B A); None: 2r
    lr_lora: float = 1e-3  # peak learning rate of the adapters (replaces lr_body with LoRA)
    bf16: bool | None = None  # bfloat16 autocast; None: on when the CPU supports it natively
    text_column: str = "text"  # CSV column holding the message
    label_column: str = "label"  # CSV column holding the intent

    def __post_init__(self) -> None:
        if self.epochs < 0:
            raise ConfigError(f"epochs must be >= 0, got {self.epochs}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {self.batch_size}")
        if not 0 < self.val_fraction < 0.5:
            raise ConfigError(f"val_fraction must be in (0, 0.5), got {self.val_fraction}")
        if self.oos_mode not in OOS_MODES:
            raise ConfigError(f"oos_mode must be one of {OOS_MODES}, got {self.oos_mode!r}")
        if self.freeze_layers < 0:
            raise ConfigError(f"freeze_layers must be >= 0, got {self.freeze_layers}")
        if self.freeze_layers and self.lora_rank:
            raise ConfigError(
                "freeze_layers and lora_rank do not go together: with LoRA the whole body "
                "stays fixed already; give one of them"
            )
        if self.max_length < 8:
            raise ConfigError(f"max_length must be >= 8, got {self.max_length}")
        if self.lora_rank < 0:
            raise ConfigError(f"lora_rank must be >= 0 (0: full fine-tuning), got {self.lora_rank}")
        if self.lora_rank:
            self.lora_settings()  # checks targets and alpha
        if self.lr_lora <= 0:
            raise ConfigError(f"lr_lora must be > 0, got {self.lr_lora}")

    def lora_settings(self):
        """The `training.lora.LoraSettings` of this run (only meaningful when lora_rank > 0)."""
        from training.lora import LoraSettings

        return LoraSettings(rank=self.lora_rank, alpha=self.lora_alpha, targets=self.lora_targets)


class IntentNet:
    """Encoder + normalise + linear head as one torch module (built lazily: no torch at import)."""

    @staticmethod
    def build(encoder, n_classes: int):
        import torch

        class _Net(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.body = encoder.model
                self.head = torch.nn.Linear(encoder.dim, n_classes)

            def forward(self, input_ids, attention_mask):
                from kb.encoder import mean_pool

                h = self.body(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
                emb = torch.nn.functional.normalize(mean_pool(h, attention_mask).float(), dim=-1)
                return self.head(emb)

        return _Net()


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def _evaluate_probs(probs, gold, labels, cfg) -> tuple[float, dict, dict]:
    """(threshold, metrics at it, metrics of the plain argmax) for validation probabilities.

    Model selection uses the argmax in-scope accuracy: out-of-scope recall on a small
    validation set moves in steps of whole examples and would make the choice noisy.
    """
    raw = intent_metrics(gold, [labels[i] for i in probs.argmax(1)], cfg.oos_label)
    if cfg.oos_mode == "class":
        return 0.0, raw, raw
    t, m = choose_threshold(probs, gold, labels, cfg.oos_label, cfg.max_accuracy_drop)
    # Without oos examples in validation the threshold stays 0: plain argmax.
    return t, (m or raw), raw


def _evaluation(probs: np.ndarray, gold: list[str], labels: list[str], cfg) -> Evaluation:
    """Validation of class probabilities (N, C); the threshold goes into `extra`."""
    if not gold:
        return Evaluation(
            None,
            intent_metrics([], [], cfg.oos_label),
            "no validation examples",
            {"threshold": 0.0},
        )
    t, m, raw = _evaluate_probs(probs, gold, labels, cfg)
    summary = (
        f"val accuracy {fmt(m['accuracy'])}, oos recall {m['oos_recall']}, threshold {t:.3f} "
        f"(argmax only: accuracy {fmt(raw['accuracy'])}, oos recall {raw['oos_recall']})"
    )
    return Evaluation(raw["accuracy"] or 0.0, m, summary, {"threshold": t})


class _IntentTask:
    """Fine-tuning the classifier (`training.trainer.TrainingTask`): weighted, label-smoothed
    cross-entropy; selection by in-scope accuracy on validation."""

    def __init__(self, run: Trainer, cfg: IntentTrainConfig, encoder, net, train_ex, val_ex):
        import torch

        self.run, self.cfg, self.encoder, self.module = run, cfg, encoder, net
        self.labels = sorted({e.label for e in train_ex})
        lab_idx = {lab: i for i, lab in enumerate(self.labels)}
        self.texts = [e.text for e in train_ex]
        self.y = np.array([lab_idx[e.label] for e in train_ex])
        self.lengths = [len(t) for t in self.texts]
        self.val_texts = [e.text for e in val_ex]
        self.val_gold = [e.label for e in val_ex]
        class_w = torch.ones(len(self.labels))
        if cfg.oos_label in lab_idx:
            class_w[lab_idx[cfg.oos_label]] = cfg.oos_weight
        self.loss_fn = torch.nn.CrossEntropyLoss(
            weight=class_w, label_smoothing=cfg.label_smoothing
        )
        self.rng = random.Random(cfg.seed)

    def param_groups(self) -> list[dict]:
        cfg, net = self.cfg, self.module
        # With LoRA only the adapters in the body are trainable; they take their own rate.
        lr_body = cfg.lr_lora if cfg.lora_rank else cfg.lr_body
        return self.run.decay_groups(net.body, lr_body, cfg.weight_decay) + [
            {"params": list(net.head.parameters()), "lr": cfg.lr_head, "weight_decay": 0.0}
        ]

    def steps_per_epoch(self) -> int:
        return math.ceil(len(dist.shard(list(range(len(self.texts))))) / self.cfg.batch_size)

    def batches(self, epoch: int) -> list[list[int]]:
        order = list(range(len(self.texts)))
        self.rng.shuffle(order)
        order = dist.shard(order)
        return length_grouped_batches(order, self.lengths, self.cfg.batch_size, self.rng)

    def loss(self, model, batch: list[int]):
        import torch

        tokens = self.encoder.tokenize([self.texts[i] for i in batch])
        y = torch.tensor(self.y[batch])
        with self.run.autocast():
            logits = model(tokens["input_ids"], tokens["attention_mask"])
        return self.loss_fn(logits.float(), y)

    def evaluate(self) -> Evaluation:
        import torch

        x_va = self.encoder.encode(self.val_texts, autocast=False)
        with torch.no_grad():
            logits = self.module.head(torch.tensor(x_va)).numpy()
        return _evaluation(_softmax(logits), self.val_gold, self.labels, self.cfg)


def _split(cfg: IntentTrainConfig, say: Callable[[str], None]):
    """Training and validation examples, checked (step 1)."""
    examples = load_intent_examples(cfg.data, cfg.text_column, cfg.label_column)
    for w in validate_intent_examples(examples, cfg.data, cfg.oos_label):
        say(f"warning: {w}")
    if cfg.val:
        train_ex = examples
        val_ex = load_intent_examples(cfg.val, cfg.text_column, cfg.label_column)
    else:
        train_ex, val_ex = split_examples(examples, cfg.val_fraction, cfg.seed)
    if cfg.oos_mode == "threshold":
        train_ex = [e for e in train_ex if e.label != cfg.oos_label]
    labels = sorted({e.label for e in train_ex})
    unknown = sorted({e.label for e in val_ex} - set(labels) - {cfg.oos_label})
    if unknown:
        raise DataError(
            f"{cfg.val or cfg.data}: validation labels {unknown[:10]} never occur in the training "
            "data. Add training examples for them or remove them from validation."
        )
    say(
        f"data: {len(train_ex)} training / {len(val_ex)} validation examples, {len(labels)} classes"
    )
    if not val_ex:
        say(
            f"no validation examples: {cfg.val or cfg.data} is too small to hold "
            f"{cfg.val_fraction:.0%} of an intent out; give a --val file to select the model and "
            "the out-of-scope threshold"
        )
    return train_ex, val_ex


def train_intent(cfg: IntentTrainConfig, log: Callable[[str], None] = print) -> dict:
    """Train an intent classifier and save it to `cfg.out`; returns the manifest."""
    import torch

    if cfg.lora_rank:
        from training.lora import require_peft

        require_peft()  # before any work: say how to install it

    from assistant.intent import IntentClassifier

    args = TrainerArgs(
        seed=cfg.seed,
        epochs=cfg.epochs,
        warmup_ratio=cfg.warmup_ratio,
        patience=cfg.patience,
        bf16=cfg.bf16,
    )
    with Trainer(args, cfg.out, "intent", log) as run:
        # 1. data -------------------------------------------------------------------------------
        train_ex, val_ex = _split(cfg, run.say)
        encoder = run.load_encoder(cfg.base_model, max_length=cfg.max_length)
        if not cfg.lora_rank:  # what stays fixed, set now: a bad freeze_layers fails at once
            run.freeze(encoder, cfg.freeze_embeddings, cfg.freeze_layers)
        labels = sorted({e.label for e in train_ex})
        va_gold = [e.label for e in val_ex]

        # 2. linear probe on frozen embeddings ----------------------------------------------------
        from sklearn.linear_model import LogisticRegression

        t0 = time.time()
        if run.governor is not None and len(train_ex) >= 1000:  # worth a 0.3 s measurement
            run.governor.settle()
        x_tr = encoder.encode([e.text for e in train_ex], autocast=run.bf16, progress=run.main)
        x_va = encoder.encode([e.text for e in val_ex], autocast=run.bf16, progress=run.main)
        lab_idx = {lab: i for i, lab in enumerate(labels)}
        probe = LogisticRegression(C=cfg.probe_c, max_iter=2000)
        probe.fit(x_tr, np.array([lab_idx[e.label] for e in train_ex]))
        binary = len(labels) == 2  # sklearn keeps one row for two classes: split it in halves
        w0 = np.vstack([-probe.coef_[0] / 2, probe.coef_[0] / 2]) if binary else probe.coef_
        b0 = (
            np.array([-probe.intercept_[0] / 2, probe.intercept_[0] / 2])
            if binary
            else probe.intercept_
        )
        probe_ev = _evaluation(_softmax(x_va @ w0.T + b0), va_gold, labels, cfg)
        probe_m = probe_ev.metrics
        run.say(
            f"probe: val accuracy {fmt(probe_m['accuracy'])}, oos recall {probe_m['oos_recall']}, "
            f"{time.time() - t0:.0f}s"
        )

        # 3-4. fine-tune from the probe; keep the best of probe and epochs -------------------------
        adapters = None
        if cfg.lora_rank:
            # LoRA: the body is frozen and adapters learn its update; the head trains fully.
            from training.lora import LoraAdapters

            adapters = LoraAdapters.attach(encoder, cfg.lora_settings())
            trainable, total = adapters.parameters()
            run.say(
                f"LoRA: rank {cfg.lora_rank} on {cfg.lora_targets}: {trainable:,} trainable "
                f"encoder parameters of {total:,} ({trainable / total:.2%})"
            )
        net = IntentNet.build(encoder, len(labels))
        with torch.no_grad():
            net.head.weight.copy_(torch.tensor(w0, dtype=torch.float32))
            net.head.bias.copy_(torch.tensor(b0, dtype=torch.float32))
        task = _IntentTask(run, cfg, encoder, net, train_ex, val_ex)
        chosen = run.fit(task, baseline=probe_ev)
        selected = "fine-tuned" if chosen.epoch else "probe"

        # 5. threshold (chosen with the selected model, on validation data only) -----------------
        threshold = chosen.evaluation.extra["threshold"]
        if chosen.validated:
            run.say(
                f"selected: {selected} (epoch {chosen.epoch}), validation threshold {threshold:.4f}"
            )
        else:
            run.say(
                f"kept: {selected} (epoch {chosen.epoch}); out-of-scope threshold 0 (no "
                "validation data to choose one: only a trained oos class rejects messages)"
            )

        # 6. save ---------------------------------------------------------------------------------
        def write(tmp) -> dict:
            from training.report import write_intent_report

            lora = None
            if adapters is not None:
                # Fold the adapters into the weights: the saved encoder is a plain one that the
                # runtime (ONNX export, no peft) loads; the adapter files stay in lora/.
                from training.lora import ADAPTER_DIR

                check = [e.text for e in (val_ex or train_ex)[:32]]
                lora = adapters.merge(tmp / ADAPTER_DIR, check)
                run.say(
                    f"LoRA adapters merged into the weights (max embedding change "
                    f"{lora['merge_max_abs_error']:.1e}); adapter file {lora['adapter_bytes']:,} "
                    "bytes"
                )
            manifest = {
                **run.provenance(asdict(cfg), cfg.data, cfg.val),
                "labels": labels,
                "oos_label": cfg.oos_label,
                "threshold": threshold,
                "lora": lora,  # None: fully fine-tuned (or the probe)
                "metrics": {
                    "validation": chosen.evaluation.metrics,
                    "probe_validation": probe_m,
                    "probe_threshold": probe_ev.extra["threshold"],
                    "selected": selected,
                    "best_epoch": chosen.epoch,
                    "history": chosen.history,
                },
            }
            clf = IntentClassifier(encoder, net.head.weight, net.head.bias, manifest)
            written = clf.save(tmp)
            write_intent_report(tmp, val_ex, oos_label=cfg.oos_label, title="validation")
            return written

        return run.save(write)
