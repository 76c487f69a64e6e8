"""Metrics and the out-of-scope threshold choice: pure functions over predictions.

Intent metrics follow Larson et al. (2019): in-scope accuracy counts an in-scope example as
correct only when it gets its own label (rejecting it as out-of-scope is an error);
out-of-scope recall and precision treat "out of scope" as the positive class.
"""

from __future__ import annotations

from collections import Counter

import numpy as np


def intent_metrics(gold: list[str], pred: list[str], oos_label: str = "oos") -> dict:
    """Accuracy (in-scope), macro-F1 over in-scope intents, oos recall/precision, n.

    >>> m = intent_metrics(["a", "b", "oos"], ["a", "oos", "oos"])
    >>> m["accuracy"], m["oos_recall"], m["oos_precision"]
    (0.5, 1.0, 0.5)
    """
    n = len(gold)
    ins = [(g, p) for g, p in zip(gold, pred) if g != oos_label]
    acc = sum(g == p for g, p in ins) / len(ins) if ins else None
    labels = sorted({g for g, _ in ins})
    f1s = []
    for lab in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == lab and p == lab)
        fp = sum(1 for g, p in zip(gold, pred) if g != lab and p == lab)
        fn = sum(1 for g, p in zip(gold, pred) if g == lab and p != lab)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    n_oos = sum(g == oos_label for g in gold)
    n_pred_oos = sum(p == oos_label for p in pred)
    tp_oos = sum(g == oos_label and p == oos_label for g, p in zip(gold, pred))
    return {
        "accuracy": acc,
        "macro_f1": float(np.mean(f1s)) if f1s else None,
        "oos_recall": tp_oos / n_oos if n_oos else None,
        "oos_precision": (tp_oos / n_pred_oos if n_pred_oos else 0.0) if n_oos else None,
        "n": n,
    }


def per_intent_report(gold: list[str], pred: list[str]) -> list[dict]:
    """Precision, recall, F1 and support for every label seen in gold or pred."""
    rows = []
    for lab in sorted(set(gold) | set(pred)):
        tp = sum(1 for g, p in zip(gold, pred) if g == lab and p == lab)
        fp = sum(1 for g, p in zip(gold, pred) if g != lab and p == lab)
        fn = sum(1 for g, p in zip(gold, pred) if g == lab and p != lab)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        rows.append({"intent": lab, "precision": prec, "recall": rec, "f1": f1, "support": tp + fn})
    return rows


def confused_pairs(gold: list[str], pred: list[str], top: int = 10) -> list[dict]:
    """The most frequent (gold -> predicted) mistakes."""
    c = Counter((g, p) for g, p in zip(gold, pred) if g != p)
    return [{"gold": g, "predicted": p, "count": n} for (g, p), n in c.most_common(top)]


def choose_threshold(
    probs: np.ndarray,
    gold: list[str],
    labels: list[str],
    oos_label: str = "oos",
    max_accuracy_drop: float = 0.003,
) -> tuple[float, dict]:
    """Pick the out-of-scope confidence threshold on validation data.

    The largest threshold whose in-scope accuracy stays within `max_accuracy_drop` of the
    accuracy without any threshold: out-of-scope recall rises with the threshold, so this is
    the most out-of-scope recall the accuracy budget buys. `probs` (N, C) are class
    probabilities in the order of `labels`. Returns (threshold, metrics at it); without
    out-of-scope examples the threshold is 0 (never reject) and the metrics are empty.

    >>> p = np.array([[0.9, 0.1], [0.6, 0.4], [0.55, 0.45]])
    >>> choose_threshold(p, ["a", "a", "oos"], ["a", "b"], max_accuracy_drop=0.0)[0]
    0.6
    """
    gold_arr = np.array(gold)
    is_oos = gold_arr == oos_label
    if not is_oos.any() or is_oos.all():
        return 0.0, {}
    oos_idx = labels.index(oos_label) if oos_label in labels else -1
    best = probs.argmax(1)
    best_label = np.array(labels)[best]
    class_says_oos = best == oos_idx
    conf = probs[np.arange(len(probs)), best]
    correct_in = (~is_oos) & (best_label == gold_arr) & ~class_says_oos
    n_in = (~is_oos).sum()
    floor = correct_in.sum() / n_in - max_accuracy_drop - 1e-12
    best_t = 0.0
    for t in np.unique(conf):
        acc = (correct_in & (conf >= t)).sum() / n_in
        if acc >= floor:
            best_t = float(t)
    pred = np.where(class_says_oos | (conf < best_t), oos_label, best_label)
    return best_t, intent_metrics(gold, list(pred), oos_label)


def ranking_metrics(ranks: list[int]) -> dict:
    """Recall@1, Recall@5 and MRR from 1-based ranks of the true item.

    >>> ranking_metrics([1, 2, 10])["recall_at_1"]
    0.3333333333333333
    """
    r = np.asarray(ranks, dtype=float)
    if len(r) == 0:
        return {"recall_at_1": None, "recall_at_5": None, "mrr": None, "n": 0}
    return {
        "recall_at_1": float((r <= 1).mean()),
        "recall_at_5": float((r <= 5).mean()),
        "mrr": float((1.0 / r).mean()),
        "n": int(len(r)),
    }
