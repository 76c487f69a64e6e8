"""training/losses.py: the in-batch ranking loss."""

from __future__ import annotations

import torch

from training.losses import in_batch_loss


def test_matching_pairs_score_a_low_loss_and_identical_replies_are_not_negatives():
    ctx = torch.eye(3)
    right = in_batch_loss(torch, ctx, torch.eye(3), [0, 1, 2], scale=20.0, symmetric=True)
    wrong = in_batch_loss(torch, ctx, torch.eye(3)[[1, 2, 0]], [0, 1, 2], scale=20.0)
    assert float(right) < 1e-6 < 1.0 < float(wrong)
    # replies 0 and 1 are the same text: context 0 is not punished for scoring reply 1 high
    rep = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    masked = in_batch_loss(torch, ctx[[0, 0, 2]], rep, [0, 0, 1], scale=20.0)
    unmasked = in_batch_loss(torch, ctx[[0, 0, 2]], rep, [0, 1, 2], scale=20.0)
    assert float(masked) < 1e-6 < float(unmasked)
