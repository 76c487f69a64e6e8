"""Fine-tune the intent classifier.

The recipe, in order:
  1. data      read and validate examples; hold out a validation split if none is given
  2. probe     frozen embeddings + logistic regression (the one-minute baseline)
  3. fine-tune encoder + linear head, the head warm-started from the probe, with separate
               learning rates for head and body, linear warm-up/decay and early stopping
  4. select    keep whichever of probe / fine-tuned scores better on validation
  5. threshold pick the out-of-scope confidence threshold on validation data only
  6. save      encoder (safetensors), head, manifest, metrics and the report
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from assistant.errors import ConfigError, DataError
from assistant.paths import resolve_base_model
from training import distributed as dist
from training.data import (
    fingerprint,
    load_intent_examples,
    validate_intent_examples,
)
from training.distributed import freeze_unused, warmup_linear
from training.metrics import choose_threshold, intent_metrics
from training.split import length_grouped_batches, split_examples

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
        if self.max_length < 8:
            raise ConfigError(f"max_length must be >= 8, got {self.max_length}")


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


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
                from assistant.encoder import mean_pool

                h = self.body(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
                emb = torch.nn.functional.normalize(mean_pool(h, attention_mask).float(), dim=-1)
                return self.head(emb)

        return _Net()


def _param_groups(net, cfg: IntentTrainConfig):
    decay, no_decay = [], []
    for p in net.body.parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim == 1 else decay).append(p)
    return [
        {"params": decay, "lr": cfg.lr_body, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "lr": cfg.lr_body, "weight_decay": 0.0},
        {"params": list(net.head.parameters()), "lr": cfg.lr_head, "weight_decay": 0.0},
    ]


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


def train_intent(cfg: IntentTrainConfig, log: Callable[[str], None] = print) -> dict:
    """Train an intent classifier and save it to `cfg.out`; returns the manifest."""
    import torch

    from assistant.encoder import Encoder, bf16_supported

    start = time.time()
    dist.setup()
    main = dist.is_main()
    say = log if main else (lambda _msg: None)
    seed_everything(cfg.seed)

    # 1. data ---------------------------------------------------------------------------------
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
    lab_idx = {lab: i for i, lab in enumerate(labels)}
    say(
        f"data: {len(train_ex)} training / {len(val_ex)} validation examples, {len(labels)} classes"
    )
    base = resolve_base_model(cfg.base_model)
    bf16 = bf16_supported() if cfg.bf16 is None else cfg.bf16
    encoder = Encoder(base, max_length=cfg.max_length)
    tr_text = [e.text for e in train_ex]
    tr_y = np.array([lab_idx[e.label] for e in train_ex])
    tr_len = [len(t) for t in tr_text]
    va_text = [e.text for e in val_ex]
    va_gold = [e.label for e in val_ex]

    # 2. linear probe on frozen embeddings ------------------------------------------------------
    from sklearn.linear_model import LogisticRegression

    t0 = time.time()
    x_tr = encoder.encode(tr_text, bf16=bf16, progress=main)
    x_va = encoder.encode(va_text, bf16=bf16, progress=main)
    probe = LogisticRegression(C=cfg.probe_c, max_iter=2000)
    probe.fit(x_tr, tr_y)
    w0 = probe.coef_ if len(labels) > 2 else np.vstack([-probe.coef_[0] / 2, probe.coef_[0] / 2])
    b0 = (
        probe.intercept_
        if len(labels) > 2
        else np.array([-probe.intercept_[0] / 2, probe.intercept_[0] / 2])
    )
    probe_probs = _softmax(x_va @ w0.T + b0)
    probe_t, probe_m, probe_raw = _evaluate_probs(probe_probs, va_gold, labels, cfg)
    probe_score = probe_raw["accuracy"] or 0.0
    probe_time = time.time() - t0
    say(
        f"probe: val accuracy {probe_m['accuracy']:.4f}, oos recall {probe_m['oos_recall']}, "
        f"{probe_time:.0f}s"
    )

    # 3. fine-tune -------------------------------------------------------------------------------
    if cfg.freeze_embeddings:
        encoder.model.embeddings.word_embeddings.weight.requires_grad_(False)
    freeze_unused(encoder.model)
    net = IntentNet.build(encoder, len(labels))
    with torch.no_grad():
        net.head.weight.copy_(torch.tensor(w0, dtype=torch.float32))
        net.head.bias.copy_(torch.tensor(b0, dtype=torch.float32))
    model = dist.wrap(net)
    opt = torch.optim.AdamW(_param_groups(net, cfg))
    steps_per_epoch = math.ceil(len(dist.shard(list(range(len(tr_text))))) / cfg.batch_size)
    sched = warmup_linear(opt, max(1, steps_per_epoch * cfg.epochs), cfg.warmup_ratio)
    class_w = torch.ones(len(labels))
    if cfg.oos_label in lab_idx:
        class_w[lab_idx[cfg.oos_label]] = cfg.oos_weight
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_w, label_smoothing=cfg.label_smoothing)
    best = {"score": probe_score, "epoch": 0, "state": None, "t": probe_t, "m": probe_m}
    history = []
    rng = random.Random(cfg.seed)
    bad_epochs = 0
    for epoch in range(1, cfg.epochs + 1):
        net.train()
        order = list(range(len(tr_text)))
        rng.shuffle(order)
        order = dist.shard(order)
        batches = length_grouped_batches(order, tr_len, cfg.batch_size, rng)
        it = batches
        if main:
            from tqdm import tqdm

            it = tqdm(batches, desc=f"epoch {epoch}/{cfg.epochs}", unit="step", leave=False)
        run_loss = 0.0
        for bi, idx in enumerate(it):
            batch = encoder.tokenize([tr_text[i] for i in idx])
            y = torch.tensor(tr_y[idx])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model(batch["input_ids"], batch["attention_mask"])
            loss = loss_fn(logits.float(), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            run_loss += loss.item()
            if main and bi % 20 == 0:
                it.set_postfix(loss=f"{run_loss / (bi + 1):.3f}")
        net.eval()
        x_va = encoder.encode(va_text, bf16=False)
        with torch.no_grad():
            va_logits = net.head(torch.tensor(x_va)).numpy()
        va_probs = _softmax(va_logits)
        t, m, raw = _evaluate_probs(va_probs, va_gold, labels, cfg)
        score = raw["accuracy"] or 0.0
        history.append(
            {"epoch": epoch, "loss": run_loss / max(1, len(batches)), "val": m, "threshold": t}
        )
        say(
            f"epoch {epoch}: loss {run_loss / max(1, len(batches)):.4f}, val accuracy "
            f"{m['accuracy']:.4f}, oos recall {m['oos_recall']}, threshold {t:.3f} "
            f"(argmax only: accuracy {raw['accuracy']:.4f}, oos recall {raw['oos_recall']})"
        )
        improved = score > best["score"] + 1e-6
        if improved:
            best = {
                "score": score,
                "epoch": epoch,
                "t": t,
                "m": m,
                "state": copy.deepcopy(net.state_dict()),
            }
            bad_epochs = 0
        else:
            bad_epochs += 1
        if dist.broadcast_flag(bad_epochs > cfg.patience - 1 and epoch < cfg.epochs):
            say(f"early stopping after epoch {epoch} (best epoch {best['epoch']})")
            break

    # 4. select ----------------------------------------------------------------------------------
    if best["state"] is not None:
        net.load_state_dict(best["state"])
        chosen = "fine-tuned"
    else:
        # The probe won on validation: restore the frozen encoder and the probe head.
        encoder = Encoder(base, max_length=cfg.max_length)
        net = IntentNet.build(encoder, len(labels))
        with torch.no_grad():
            net.head.weight.copy_(torch.tensor(w0, dtype=torch.float32))
            net.head.bias.copy_(torch.tensor(b0, dtype=torch.float32))
        chosen = "probe"
    say(f"selected: {chosen} (epoch {best['epoch']}), validation threshold {best['t']:.4f}")

    # 5-6. save ------------------------------------------------------------------------------------
    manifest = {}
    if main:
        from training.save import save_intent_model

        train_time = time.time() - start
        manifest = save_intent_model(
            out=Path(cfg.out),
            encoder=encoder,
            head=net.head,
            labels=labels,
            threshold=best["t"],
            cfg=asdict(cfg),
            base_model=str(base),
            data_fingerprint={
                "data": fingerprint(cfg.data),
                "val": fingerprint(cfg.val) if cfg.val else None,
            },
            metrics={
                "validation": best["m"],
                "probe_validation": probe_m,
                "probe_threshold": probe_t,
                "selected": chosen,
                "best_epoch": best["epoch"],
                "history": history,
            },
            train_time=train_time,
            trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
            val_examples=val_ex,
        )
        say(f"saved {cfg.out} in {train_time:.0f}s")
    dist.barrier()
    dist.teardown()
    return manifest
