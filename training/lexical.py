"""Train the ranker's lexical towers (see `assistant.lexical`) with in-batch negatives.

Both tables start random and are trained together with sparse Adam: each step scores every
context of a batch against every reply in it, with the transformer's loss (`training.losses`),
so a batch of 256 gives 255 negatives per pair for almost no compute. Seconds per epoch on a
laptop CPU.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant.lexical import LexicalEncoder, context_features, reply_features
from training.losses import in_batch_loss


@dataclass
class LexicalTrainConfig:
    buckets: int = 1 << 17  # hashed feature buckets per table
    dim: int = 64  # embedding size
    epochs: int = 3
    batch_size: int = 256
    lr: float = 0.01
    scale: float = 20.0  # inverse temperature of the similarity logits
    seed: int = 0


def train_lexical(
    contexts: list[str],
    replies: list[str],
    cfg: LexicalTrainConfig,
    log: Callable[[str], None] = print,
) -> LexicalEncoder:
    """Fit the two towers on (formatted context, reply) pairs."""
    import torch

    gen = torch.Generator().manual_seed(cfg.seed)
    towers = []
    for _ in range(2):
        bag = torch.nn.EmbeddingBag(cfg.buckets, cfg.dim, mode="mean", sparse=True)
        with torch.no_grad():
            bag.weight.normal_(0.0, 0.1, generator=gen)
        towers.append(bag)
    ctx_tower, rep_tower = towers
    opt = torch.optim.SparseAdam([t.weight for t in towers], lr=cfg.lr)
    c_feats = [context_features(c, cfg.buckets) for c in contexts]
    r_feats = [reply_features(r, cfg.buckets) for r in replies]
    reply_ids: dict[str, int] = {}
    ids = [reply_ids.setdefault(r, len(reply_ids)) for r in replies]
    rng = random.Random(cfg.seed)
    order = list(range(len(contexts)))

    def bag(tower, feats):
        flat = torch.tensor([f for fs in feats for f in fs])
        offsets = torch.tensor(np.concatenate([[0], np.cumsum([len(fs) for fs in feats])[:-1]]))
        return torch.nn.functional.normalize(tower(flat, offsets), dim=-1)

    bs = max(2, min(cfg.batch_size, len(order)))
    for epoch in range(1, cfg.epochs + 1):
        rng.shuffle(order)
        total, steps = 0.0, 0
        for s in range(0, len(order) - bs + 1, bs):
            idx = order[s : s + bs]
            c = bag(ctx_tower, [c_feats[i] for i in idx])
            r = bag(rep_tower, [r_feats[i] for i in idx])
            loss = in_batch_loss(torch, c, r, [ids[i] for i in idx], cfg.scale, symmetric=True)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, steps = total + loss.item(), steps + 1
        log(f"lexical epoch {epoch}/{cfg.epochs}: loss {total / max(1, steps):.4f}")
    return LexicalEncoder(
        ctx_tower.weight.detach().numpy().astype(np.float16),
        rep_tower.weight.detach().numpy().astype(np.float16),
    )
