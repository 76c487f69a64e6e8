"""Seeded validation splits that keep a dialogue's turns on one side."""

from __future__ import annotations

import random
from collections import defaultdict

from training.data import Dialogue, IntentExample


def split_examples(
    examples: list[IntentExample], fraction: float, seed: int
) -> tuple[list[IntentExample], list[IntentExample]]:
    """Stratified by label; examples sharing a `group` (dialogue id) stay together.

    >>> ex = [IntentExample(f"t{i}", "a" if i % 2 else "b") for i in range(20)]
    >>> tr, va = split_examples(ex, 0.2, seed=0)
    >>> len(tr), len(va)
    (16, 4)
    """
    rng = random.Random(seed)
    if any(e.group for e in examples):
        groups: dict[str, list[IntentExample]] = defaultdict(list)
        for e in examples:
            groups[e.group].append(e)
        # Stratify groups by the label of their first example.
        by_label: dict[str, list[str]] = defaultdict(list)
        for g, members in groups.items():
            by_label[members[0].label].append(g)
        val_groups: set[str] = set()
        for lab in sorted(by_label):
            gs = sorted(by_label[lab])
            rng.shuffle(gs)
            val_groups.update(gs[: round(len(gs) * fraction)])
        train = [e for e in examples if e.group not in val_groups]
        val = [e for e in examples if e.group in val_groups]
        return train, val
    by_label_ex: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        by_label_ex[e.label].append(i)
    val_idx: set[int] = set()
    for lab in sorted(by_label_ex):
        idx = by_label_ex[lab]
        rng.shuffle(idx)
        # Keep at least one training example per label.
        val_idx.update(idx[: min(round(len(idx) * fraction), len(idx) - 1)])
    return (
        [e for i, e in enumerate(examples) if i not in val_idx],
        [e for i, e in enumerate(examples) if i in val_idx],
    )


def split_dialogues(
    dialogues: list[Dialogue], fraction: float, seed: int
) -> tuple[list[Dialogue], list[Dialogue]]:
    """Hold out `fraction` of dialogues by id (never by turn)."""
    ids = sorted(d.id for d in dialogues)
    random.Random(seed).shuffle(ids)
    held = set(ids[: max(1, round(len(ids) * fraction))])
    return [d for d in dialogues if d.id not in held], [d for d in dialogues if d.id in held]


def length_grouped_batches(
    order: list[int], lengths: list[int], batch_size: int, rng: random.Random, chunk: int = 50
) -> list[list[int]]:
    """Batches of similar length (less padding, faster steps), in random order.

    `order` is already shuffled; each run of `chunk` batches is sorted by length and cut.

    >>> b = length_grouped_batches([3, 0, 2, 1], [5, 1, 9, 2], 2, random.Random(0))
    >>> sorted(map(sorted, b))  # lengths 1,2 together and 5,9 together
    [[0, 2], [1, 3]]
    """
    batches = []
    size = batch_size * chunk
    for s in range(0, len(order), size):
        block = sorted(order[s : s + size], key=lambda i: lengths[i])
        batches += [block[j : j + batch_size] for j in range(0, len(block), batch_size)]
    rng.shuffle(batches)
    return batches
