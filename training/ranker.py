"""Fine-tune the response ranker: a bi-encoder trained with in-batch negatives.

The recipe, in order:
  1. data      read dialogues; hold out 10% by dialogue id if no validation file is given
  2. examples  (context of the last K turns, agent reply) pairs, shuffled with the seed
  3. baseline  1-of-100 Recall@1 of the untouched encoder on a validation sample
  4. train     multiple-negatives ranking loss: each context against every reply in the batch
               (identical reply texts masked, they are not negatives), AdamW, warm-up/decay
  5. select    validation Recall@1 after each epoch; keep the best (or the base model)
  6. lexical   lexical towers on every training pair (seconds), and the weight of their score
               in the fused score, chosen on validation Recall@1 (0 keeps the transformer alone)
  7. save      encoder (safetensors, loadable by sentence-transformers), lexical towers,
               response bank (embedded with the fused ranker), manifest
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from assistant.errors import ConfigError, DataError
from assistant.paths import resolve_base_model
from training import distributed as dist
from training.data import fingerprint, load_dialogues
from training.distributed import freeze_unused, warmup_linear
from training.evaluate import ranking_tasks, ranks_of, task_scores
from training.intent import seed_everything
from training.lexical import LexicalTrainConfig, train_lexical
from training.losses import in_batch_loss
from training.metrics import ranking_metrics
from training.prepare import ranking_examples
from training.split import split_dialogues


@dataclass
class RankerTrainConfig:
    data: str  # dialogues JSONL
    out: str  # output model directory
    val: str | None = None  # validation dialogues; None: hold out `val_fraction` by dialogue id
    base_model: str | None = None  # local model directory; None: the bundled MiniLM
    context_turns: int = 3  # K: turns of context before the reply
    epochs: int = 1  # passes over the training pairs
    max_pairs: int | None = 20000  # cap on training pairs per epoch (sampled with the seed)
    seed: int = 0  # seeds split, sampling, shuffling
    batch_size: int = 64  # pairs per step: each context sees batch_size - 1 negatives
    lr: float = 1e-4  # peak learning rate
    weight_decay: float = 0.01  # AdamW weight decay (not on biases / LayerNorm)
    warmup_ratio: float = 0.1  # fraction of steps with rising learning rate
    scale: float = 20.0  # inverse temperature of the similarity logits
    symmetric: bool = True  # also score each reply against every context in the batch
    max_context_length: int = 48  # tokens of context (oldest turns are cut first)
    max_reply_length: int = 32  # tokens of a reply
    val_fraction: float = 0.1  # held-out share of dialogues when `val` is None
    val_samples: int = 500  # 1-of-100 items used for model selection during training
    freeze_embeddings: bool = True  # keep the word-embedding matrix fixed
    length_chunks: int = 4  # each side of a batch is encoded in this many length-sorted chunks
    lexical: bool = True  # also train lexical towers and fuse their score (assistant.lexical)
    lexical_epochs: int = 3  # passes of the lexical towers over all training pairs
    lexical_buckets: int = 1 << 17  # hashed feature buckets of each lexical table
    lexical_dim: int = 64  # lexical embedding size
    bf16: bool | None = None  # bfloat16 autocast; None: on when the CPU supports it natively

    def __post_init__(self) -> None:
        if self.context_turns < 1:
            raise ConfigError(f"context_turns must be >= 1, got {self.context_turns}")
        if self.batch_size < 2:
            raise ConfigError(
                f"batch_size must be >= 2 (in-batch negatives), got {self.batch_size}"
            )
        if self.epochs < 0:
            raise ConfigError(f"epochs must be >= 0, got {self.epochs}")
        if not 0 < self.val_fraction < 0.5:
            raise ConfigError(f"val_fraction must be in (0, 0.5), got {self.val_fraction}")
        if self.max_pairs is not None and self.max_pairs < self.batch_size:
            raise ConfigError(f"max_pairs must be >= batch_size, got {self.max_pairs}")


def choose_lexical_weight(
    dense, lexical, tasks, step: float = 0.05, max_weight: float = 0.9
) -> tuple[float, dict]:
    """The weight w in (1-w) * dense + w * lexical with the best Recall@1 on `tasks` (the
    smallest such w), and the metrics there. `dense` is the transformer's `task_scores` matrix
    for `tasks`. w stays <= `max_weight`: the transformer's part of a fused context vector is
    the dense query of a KB built with this encoder."""
    import numpy as np

    lex = task_scores(lexical, tasks)
    best_w, best_r1 = 0.0, -1.0
    for w in np.arange(0.0, max_weight + 1e-9, step):
        r1 = float(np.mean(np.array(ranks_of((1 - w) * dense + w * lex)) == 1))
        if r1 > best_r1 + 1e-9:
            best_w, best_r1 = float(w), r1
    return best_w, ranking_metrics(ranks_of((1 - best_w) * dense + best_w * lex))


class _RankerView:
    """Adapts a training-time encoder to the interface `task_scores` expects."""

    def __init__(self, encoder, cfg: RankerTrainConfig) -> None:
        self.encoder, self.cfg = encoder, cfg

    def encode_contexts(self, texts, progress=False):
        return self.encoder.encode(texts, max_length=self.cfg.max_context_length)

    def encode_replies(self, texts, progress=False):
        return self.encoder.encode(texts, max_length=self.cfg.max_reply_length)


def train_ranker(cfg: RankerTrainConfig, log: Callable[[str], None] = print) -> dict:
    """Train a response ranker and save it (with its response bank) to `cfg.out`."""
    import torch

    from assistant.encoder import Encoder, bf16_supported

    start = time.time()
    dist.setup()
    main = dist.is_main()
    say = log if main else (lambda _msg: None)
    seed_everything(cfg.seed)

    # 1-2. data and examples -------------------------------------------------------------------
    dialogues = load_dialogues(cfg.data)
    if cfg.val:
        train_d, val_d = dialogues, load_dialogues(cfg.val)
    else:
        train_d, val_d = split_dialogues(dialogues, cfg.val_fraction, cfg.seed)
    pairs = ranking_examples(train_d, cfg.context_turns)
    if len(pairs) < cfg.batch_size:
        raise DataError(
            f"{cfg.data}: only {len(pairs)} (customer turn, agent reply) pairs; the ranker needs "
            f"at least {cfg.batch_size}. Add dialogues where an agent answers a customer."
        )
    rng = random.Random(cfg.seed)
    val_tasks = ranking_tasks(val_d, cfg.context_turns, seed=cfg.seed)
    if len(val_tasks) > cfg.val_samples:
        val_tasks = rng.sample(val_tasks, cfg.val_samples)
    say(
        f"data: {len(train_d)} training / {len(val_d)} validation dialogues, {len(pairs)} pairs, "
        f"{len(val_tasks)} validation items"
    )
    base = resolve_base_model(cfg.base_model)
    bf16 = bf16_supported() if cfg.bf16 is None else cfg.bf16
    encoder = Encoder(base)
    view = _RankerView(encoder, cfg)

    # 3. baseline -------------------------------------------------------------------------------
    def validate():
        """Metrics and the score matrix (kept for the lexical weight) on the validation items."""
        if not val_tasks:
            return {}, None
        scores = task_scores(view, val_tasks)
        return ranking_metrics(ranks_of(scores)), scores

    base_m, base_scores = validate()
    say(f"base model: validation Recall@1 {base_m.get('recall_at_1')}")
    best = {
        "r1": base_m.get("recall_at_1") or 0.0,
        "epoch": 0,
        "state": None,
        "m": base_m,
        "scores": base_scores,
    }

    # 4. train ------------------------------------------------------------------------------------
    if cfg.freeze_embeddings:
        encoder.model.embeddings.word_embeddings.weight.requires_grad_(False)
    freeze_unused(encoder.model)
    model = dist.wrap(encoder.model)
    decay = [p for p in encoder.model.parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for p in encoder.model.parameters() if p.requires_grad and p.ndim == 1]
    opt = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": cfg.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=cfg.lr,
    )
    n_pairs = min(len(pairs), cfg.max_pairs or len(pairs))
    steps_per_epoch = len(dist.shard(list(range(n_pairs)))) // cfg.batch_size
    sched = warmup_linear(opt, max(1, steps_per_epoch * cfg.epochs), cfg.warmup_ratio)
    reply_id: dict[str, int] = {}
    history = []
    from assistant.encoder import mean_pool

    def embed(texts, max_length):
        # Length-sorted chunks pad less than one batch padded to its longest text.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        size = -(-len(texts) // cfg.length_chunks)
        parts = [order[j : j + size] for j in range(0, len(order), size)]
        embs = []
        for part in parts:
            b = encoder.tokenize([texts[i] for i in part], max_length)
            out = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"])
            embs.append(mean_pool(out.last_hidden_state, b["attention_mask"]))
        back = torch.empty(len(texts), dtype=torch.long)
        back[torch.tensor([i for part in parts for i in part])] = torch.arange(len(texts))
        return torch.cat(embs)[back]

    for epoch in range(1, cfg.epochs + 1):
        encoder.model.train()
        order = dist.shard(rng.sample(range(len(pairs)), n_pairs))
        batches = [
            order[i : i + cfg.batch_size]
            for i in range(0, steps_per_epoch * cfg.batch_size, cfg.batch_size)
        ]
        it = batches
        if main:
            from tqdm import tqdm

            it = tqdm(batches, desc=f"epoch {epoch}/{cfg.epochs}", unit="step", leave=False)
        run = 0.0
        for bi, idx in enumerate(it):
            ex = [pairs[i] for i in idx]
            ids = [reply_id.setdefault(e.reply, len(reply_id)) for e in ex]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                c = embed([e.context for e in ex], cfg.max_context_length)
                r = embed([e.reply for e in ex], cfg.max_reply_length)
            loss = in_batch_loss(torch, c, r, ids, cfg.scale, cfg.symmetric)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(encoder.model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            run += loss.item()
            if main and bi % 10 == 0:
                it.set_postfix(loss=f"{run / (bi + 1):.3f}")
        encoder.model.eval()
        m, scores = validate()
        history.append({"epoch": epoch, "loss": run / max(1, len(batches)), "val": m})
        say(
            f"epoch {epoch}: loss {run / max(1, len(batches)):.4f}, "
            f"validation Recall@1 {m.get('recall_at_1')}"
        )
        if (m.get("recall_at_1") or 0.0) > best["r1"]:
            best = {
                "r1": m["recall_at_1"],
                "epoch": epoch,
                "m": m,
                "scores": scores,
                "state": copy.deepcopy(encoder.model.state_dict()),
            }

    # 5. select -----------------------------------------------------------------------------------
    if best["state"] is not None:
        encoder.model.load_state_dict(best["state"])
    elif cfg.epochs:
        say("no epoch beat the base model on validation; keeping the base encoder")
        encoder = Encoder(base)

    # 6. lexical towers and their weight -----------------------------------------------------------
    lexical, weight, fused_m = None, 0.0, best["m"]
    if cfg.lexical and main:
        lexical = train_lexical(
            [p.context for p in pairs],
            [p.reply for p in pairs],
            LexicalTrainConfig(
                buckets=cfg.lexical_buckets,
                dim=cfg.lexical_dim,
                epochs=cfg.lexical_epochs,
                seed=cfg.seed,
            ),
            log=say,
        )
        if val_tasks:
            weight, fused_m = choose_lexical_weight(best["scores"], lexical, val_tasks)
            say(
                f"lexical weight {weight:.2f}: validation Recall@1 {fused_m['recall_at_1']} "
                f"(transformer alone {best['m'].get('recall_at_1')})"
            )
            if weight == 0.0:
                say("the lexical towers did not help on validation: not kept")
                lexical = None
        else:
            weight = 0.5
            say("no validation items: lexical weight 0.5")

    # 7. save -------------------------------------------------------------------------------------
    manifest = {}
    if main:
        from training.save import save_ranker_model

        train_time = time.time() - start
        manifest = save_ranker_model(
            out=Path(cfg.out),
            encoder=encoder,
            lexical=lexical,
            lexical_weight=weight,
            train_dialogues=train_d,
            cfg=asdict(cfg),
            base_model=str(base),
            data_fingerprint={
                "data": fingerprint(cfg.data),
                "val": fingerprint(cfg.val) if cfg.val else None,
            },
            metrics={
                "validation": fused_m,
                "transformer_validation": best["m"],
                "base_validation": base_m,
                "best_epoch": best["epoch"],
                "history": history,
            },
            train_time=train_time,
            trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        say(f"saved {cfg.out} in {train_time:.0f}s")
    dist.barrier()
    dist.teardown()
    return manifest
