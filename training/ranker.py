"""Fine-tune the response ranker: a bi-encoder trained with in-batch negatives.

The recipe, in order:
  1. data      read dialogues; hold out 10% by dialogue id if no validation file is given
  2. examples  (context of the last K turns, agent reply) pairs, shuffled with the seed
  3. baseline  1-of-100 Recall@1 of the untouched encoder on a validation sample (skipped
               with `baseline=False`, as the demo does: its base model never wins)
  4. train     multiple-negatives ranking loss: each context against every reply in the batch
               (identical reply texts masked, they are not negatives), AdamW, warm-up/decay
  5. select    validation Recall@1 after each epoch; keep the best (or the base model)
  6. lexical   lexical towers on every training pair (seconds), and the weight of their score
               in the fused score, chosen on validation Recall@1 (0 keeps the transformer alone)
  7. save      encoder (safetensors, loadable by sentence-transformers), lexical towers,
               response bank (embedded with the fused ranker), manifest

Setup, the training loop, selection and saving are `training.trainer`'s; this module holds
the ranker's own data, loss and metric. Without validation items (tiny data) every epoch
runs, the last one is kept and the lexical weight is 0.5.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass

from assistant.errors import ConfigError, DataError
from training import distributed as dist
from training.data import load_dialogues
from training.evaluate import ranking_tasks, ranks_of, task_scores
from training.lexical import LexicalTrainConfig, train_lexical
from training.losses import in_batch_loss
from training.metrics import ranking_metrics
from training.prepare import ranking_examples
from training.split import split_dialogues
from training.trainer import Evaluation, Trainer, TrainerArgs


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
    # Validate the base model first, so that it is kept when no epoch beats it. False skips
    # that pass (~20 s of a demo first run): an epoch is then kept whatever its score.
    baseline: bool = True
    freeze_embeddings: bool = True  # keep the word-embedding matrix fixed
    freeze_layers: int = 0  # lowest transformer layers kept fixed (a shorter backward pass)
    length_chunks: int = 4  # each side of a batch is encoded in this many length-sorted chunks
    lexical: bool = True  # also train lexical towers and fuse their score (assistant.lexical)
    lexical_epochs: int = 3  # passes of the lexical towers over all training pairs
    lexical_buckets: int = 1 << 17  # hashed feature buckets of each lexical table
    lexical_dim: int = 64  # lexical embedding size
    bf16: bool | None = None  # bfloat16 autocast; None: on when the CPU supports it natively

    def __post_init__(self) -> None:
        if self.freeze_layers < 0:
            raise ConfigError(f"freeze_layers must be >= 0, got {self.freeze_layers}")
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


def _ranker(encoder, cfg: RankerTrainConfig, lexical=None, weight: float = 0.0, **manifest):
    """The runtime ranker around a training-time encoder: validation and the response bank
    embed texts exactly as `assistant.ranker.ResponseRanker` does after loading."""
    from assistant.ranker import ResponseRanker

    return ResponseRanker(
        encoder, {"config": asdict(cfg), "lexical_weight": weight, **manifest}, lexical=lexical
    )


class _RankerTask:
    """Fine-tuning the bi-encoder (`training.trainer.TrainingTask`): in-batch negatives
    ranking loss; selection by 1-of-100 Recall@1 on validation."""

    def __init__(self, run: Trainer, cfg: RankerTrainConfig, encoder, pairs, val_tasks, rng):
        self.run, self.cfg, self.encoder, self.module = run, cfg, encoder, encoder.model
        self.pairs, self.val_tasks, self.rng = pairs, val_tasks, rng
        self.n_pairs = min(len(pairs), cfg.max_pairs or len(pairs))
        self.reply_id: dict[str, int] = {}  # identical reply texts are not each other's negatives

    def param_groups(self) -> list[dict]:
        return self.run.decay_groups(self.module, self.cfg.lr, self.cfg.weight_decay)

    def steps_per_epoch(self) -> int:
        return len(dist.shard(list(range(self.n_pairs)))) // self.cfg.batch_size

    def batches(self, epoch: int) -> list[list[int]]:
        bs = self.cfg.batch_size
        order = dist.shard(self.rng.sample(range(len(self.pairs)), self.n_pairs))
        return [order[i : i + bs] for i in range(0, self.steps_per_epoch() * bs, bs)]

    def _embed(self, model, texts: list[str], max_length: int):
        import torch

        from kb.encoder import mean_pool

        # Length-sorted chunks pad less than one batch padded to its longest text.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        size = -(-len(texts) // self.cfg.length_chunks)
        parts = [order[j : j + size] for j in range(0, len(order), size)]
        embs = []
        for part in parts:
            b = self.encoder.tokenize([texts[i] for i in part], max_length)
            out = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"])
            embs.append(mean_pool(out.last_hidden_state, b["attention_mask"]))
        back = torch.empty(len(texts), dtype=torch.long)
        back[torch.tensor([i for part in parts for i in part])] = torch.arange(len(texts))
        return torch.cat(embs)[back]

    def loss(self, model, batch: list[int]):
        import torch

        cfg = self.cfg
        ex = [self.pairs[i] for i in batch]
        ids = [self.reply_id.setdefault(e.reply, len(self.reply_id)) for e in ex]
        with self.run.autocast():
            c = self._embed(model, [e.context for e in ex], cfg.max_context_length)
            r = self._embed(model, [e.reply for e in ex], cfg.max_reply_length)
        return in_batch_loss(torch, c, r, ids, cfg.scale, cfg.symmetric)

    def evaluate(self) -> Evaluation:
        """Recall@1 of the transformer alone; its score matrix is kept for the lexical weight."""
        if not self.val_tasks:
            return Evaluation(None, {}, "no validation items")
        # bf16 autocast where the run trains in it: ~3x faster than fp32 on such a CPU, and
        # selection and the lexical weight do not hinge on the fourth decimal of a score
        with self.run.autocast():
            scores = task_scores(_ranker(self.encoder, self.cfg), self.val_tasks, progress=False)
        m = ranking_metrics(ranks_of(scores))
        return Evaluation(
            m["recall_at_1"], m, f"validation Recall@1 {m['recall_at_1']}", {}, scores
        )


def train_ranker(cfg: RankerTrainConfig, log: Callable[[str], None] = print) -> dict:
    """Train a response ranker and save it (with its response bank) to `cfg.out`."""
    from assistant.bank import BankEntry, ResponseBank
    from assistant.review import Reviews, reviews_path
    from training.bank import build_bank

    args = TrainerArgs(
        seed=cfg.seed, epochs=cfg.epochs, warmup_ratio=cfg.warmup_ratio, bf16=cfg.bf16
    )
    with Trainer(args, cfg.out, "ranker", log) as run:
        # 1-2. data and examples ---------------------------------------------------------------
        dialogues = load_dialogues(cfg.data)
        # the company's review decisions on the bank, kept beside the models (read first: a
        # damaged file stops the run before hours of training)
        reviews = Reviews.load(reviews_path(cfg.out))
        if cfg.val:
            train_d, val_d = dialogues, load_dialogues(cfg.val)
        else:
            train_d, val_d = split_dialogues(dialogues, cfg.val_fraction, cfg.seed)
        pairs = ranking_examples(train_d, cfg.context_turns)
        if len(pairs) < cfg.batch_size:
            raise DataError(
                f"{cfg.data}: only {len(pairs)} (customer turn, agent reply) pairs for training; "
                f"a batch needs {cfg.batch_size}. Add dialogues where an agent answers a "
                "customer, or lower --batch-size."
            )
        rng = random.Random(cfg.seed)
        val_tasks = ranking_tasks(val_d, cfg.context_turns, seed=cfg.seed)
        if len(val_tasks) > cfg.val_samples:
            val_tasks = rng.sample(val_tasks, cfg.val_samples)
        run.say(
            f"data: {len(train_d)} training / {len(val_d)} validation dialogues, {len(pairs)} "
            f"pairs, {len(val_tasks)} validation items"
        )
        if not val_tasks:
            run.say(
                "no validation items: the held-out dialogues have no agent reply that other "
                "dialogues' replies can stand beside; give a --val file to select the model"
            )
        encoder = run.load_encoder(cfg.base_model)
        # what stays fixed, set now: a bad freeze_layers fails before any work
        run.freeze(encoder, cfg.freeze_embeddings, cfg.freeze_layers)

        # 3. baseline ---------------------------------------------------------------------------
        task = _RankerTask(run, cfg, encoder, pairs, val_tasks, rng)
        if cfg.baseline or not val_tasks:
            base = task.evaluate()
            run.say(f"base model: validation Recall@1 {base.metrics.get('recall_at_1')}")
        else:  # scores 0: any epoch that ranks one validation item first replaces it
            base = Evaluation(0.0, {}, "base model not validated")
            run.say("base model: not validated (baseline=False)")

        # 4-5. train, keep the best of the base model and the epochs ------------------------------
        chosen = run.fit(task, baseline=base)
        if chosen.validated and cfg.epochs and not chosen.epoch:
            run.say("no epoch beat the base model on validation; keeping the base encoder")
        dense_m = chosen.evaluation.metrics

        # 6. lexical towers and their weight ------------------------------------------------------
        lexical, weight, fused_m = None, 0.0, dense_m
        if cfg.lexical and run.main:
            lexical = train_lexical(
                [p.context for p in pairs],
                [p.reply for p in pairs],
                LexicalTrainConfig(
                    buckets=cfg.lexical_buckets,
                    dim=cfg.lexical_dim,
                    epochs=cfg.lexical_epochs,
                    seed=cfg.seed,
                ),
                log=run.say,
            )
            if val_tasks:
                weight, fused_m = choose_lexical_weight(
                    chosen.evaluation.payload, lexical, val_tasks
                )
                run.say(
                    f"lexical weight {weight:.2f}: validation Recall@1 {fused_m['recall_at_1']} "
                    f"(transformer alone {dense_m.get('recall_at_1')})"
                )
                if weight == 0.0:
                    run.say("the lexical towers did not help on validation: not kept")
                    lexical = None
            else:
                weight = 0.5
                run.say("no validation items: lexical weight 0.5")

        # 7. save ---------------------------------------------------------------------------------
        def write(tmp) -> dict:
            import json

            metrics = {
                "validation": fused_m,
                "transformer_validation": dense_m,
                "base_validation": base.metrics,
                "best_epoch": chosen.epoch,
                "history": chosen.history,
            }
            bank_entries = [BankEntry(**e) for e in build_bank(train_d, reviews=reviews)]
            ranker = _ranker(
                encoder,
                cfg,
                lexical,
                weight,
                **run.provenance(asdict(cfg), cfg.data, cfg.val),
                bank_size=len(bank_entries),
                metrics=metrics,
            )
            bank = ResponseBank.embed(bank_entries, ranker)
            ranker.manifest["bank"] = {**bank.manifest(), "reviews": len(reviews.decisions)}
            manifest = ranker.save(tmp)
            bank.save(tmp)
            (tmp / "metrics.json").write_text(json.dumps({"validation": fused_m}, indent=2))
            return manifest

        return run.save(write)
