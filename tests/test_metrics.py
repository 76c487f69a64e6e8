"""training/metrics.py"""

from __future__ import annotations

import numpy as np

from training.metrics import choose_threshold, confused_pairs, intent_metrics, ranking_metrics


def test_intent_metrics_count_rejections_as_errors():
    gold = ["a", "a", "b", "oos", "oos"]
    pred = ["a", "oos", "b", "oos", "a"]
    m = intent_metrics(gold, pred)
    assert m["accuracy"] == 2 / 3
    assert m["oos_recall"] == 0.5
    assert m["oos_precision"] == 0.5
    assert m["n"] == 5


def test_no_oos_gives_null():
    m = intent_metrics(["a", "b"], ["a", "a"])
    assert m["oos_recall"] is None and m["oos_precision"] is None
    assert m["accuracy"] == 0.5
    assert 0 < m["macro_f1"] < 1


def test_choose_threshold_separates_confident_from_unsure():
    labels = ["a", "b"]
    probs = np.array([[0.95, 0.05], [0.1, 0.9], [0.55, 0.45], [0.5, 0.5]])
    gold = ["a", "b", "oos", "oos"]
    t, m = choose_threshold(probs, gold, labels)
    assert t == 0.9
    assert m["accuracy"] == 1.0 and m["oos_recall"] == 1.0


def test_choose_threshold_respects_accuracy_budget():
    labels = ["a", "b"]
    # 10 in-scope, all right; one (0.6) is as unsure as the oos examples.
    probs = np.array([[0.99, 0.01]] * 9 + [[0.6, 0.4], [0.62, 0.38], [0.58, 0.42]])
    gold = ["a"] * 10 + ["oos", "oos"]
    t, m = choose_threshold(probs, gold, labels, max_accuracy_drop=0.0)
    assert t == 0.6 and m["accuracy"] == 1.0 and m["oos_recall"] == 0.5
    t, m = choose_threshold(probs, gold, labels, max_accuracy_drop=0.1)
    assert t == 0.99 and m["accuracy"] == 0.9 and m["oos_recall"] == 1.0


def test_choose_threshold_without_oos_never_rejects():
    t, m = choose_threshold(np.array([[0.6, 0.4]]), ["a"], ["a", "b"])
    assert t == 0.0 and m == {}


def test_ranking_metrics_and_confusions():
    m = ranking_metrics([1, 3, 6, 1])
    assert m == {
        "recall_at_1": 0.5,
        "recall_at_5": 0.75,
        "mrr": (1 + 1 / 3 + 1 / 6 + 1) / 4,
        "n": 4,
    }
    assert confused_pairs(["a", "a", "b"], ["b", "b", "b"]) == [
        {"gold": "a", "predicted": "b", "count": 2}
    ]
