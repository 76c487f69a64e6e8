"""The in-batch ranking loss shared by the ranker's transformer and its lexical towers."""

from __future__ import annotations


def in_batch_loss(torch, ctx, rep, reply_ids, scale: float, symmetric: bool = False):
    """Cross-entropy of each context against all replies in the batch; ctx, rep: (B, H).

    Replies with the same id (identical texts) are masked: they are not negatives.
    With `symmetric`, the mean with the reply-to-context direction."""
    ctx = torch.nn.functional.normalize(ctx.float(), dim=-1)
    rep = torch.nn.functional.normalize(rep.float(), dim=-1)
    logits = scale * ctx @ rep.T  # (B, B)
    ids = torch.as_tensor(reply_ids)
    same = ids[:, None] == ids[None, :]
    same.fill_diagonal_(False)
    logits = logits.masked_fill(same, float("-inf"))
    target = torch.arange(len(ctx))
    loss = torch.nn.functional.cross_entropy(logits, target)
    if symmetric:
        loss = (loss + torch.nn.functional.cross_entropy(logits.T, target)) / 2
    return loss
