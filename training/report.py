"""The evaluation report written next to every intent model.

metrics.json         headline metrics (validation)
per_intent.csv       precision, recall, F1, support per intent
confusion.png        confusion matrix (rows: gold, columns: predicted)
confused_pairs.json  the most frequent mistakes
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from training.data import IntentExample
from training.metrics import confused_pairs, intent_metrics, per_intent_report


def write_confusion_png(path: Path, gold: list[str], pred: list[str], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels = sorted(set(gold) | set(pred))
    if not labels:  # no validation examples: a figure that says so
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, f"Confusion matrix ({title}): no examples", ha="center", va="center")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return
    idx = {lab: i for i, lab in enumerate(labels)}
    m = np.zeros((len(labels), len(labels)), dtype=int)
    for g, p in zip(gold, pred):
        m[idx[g], idx[p]] += 1
    size = min(40, max(6, 0.22 * len(labels) + 3))
    fig, ax = plt.subplots(figsize=(size, size))
    # Row-normalised so rare and frequent intents read the same way.
    norm = m / np.maximum(m.sum(1, keepdims=True), 1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=max(4, 9 - len(labels) // 30))
    ax.set_yticks(range(len(labels)), labels, fontsize=max(4, 9 - len(labels) // 30))
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(f"Confusion matrix ({title}, row-normalised)")
    if len(labels) <= 40:
        for i in range(len(labels)):
            for j in range(len(labels)):
                if m[i, j]:
                    ax.text(
                        j,
                        i,
                        str(m[i, j]),
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black",
                    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_intent_report(
    model_dir: Path, examples: list[IntentExample], oos_label: str, title: str
) -> dict:
    """Predict `examples` with the model in `model_dir` and write the report files there."""
    from training.evaluate import predict_labels

    gold = [e.label for e in examples]
    pred = predict_labels(model_dir, examples) if examples else []
    metrics = intent_metrics(gold, pred, oos_label)
    (model_dir / "metrics.json").write_text(json.dumps({title: metrics}, indent=2))
    rows = per_intent_report(gold, pred)
    with open(model_dir / "per_intent.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["intent", "precision", "recall", "f1", "support"])
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.items()})
    (model_dir / "confused_pairs.json").write_text(json.dumps(confused_pairs(gold, pred), indent=2))
    write_confusion_png(model_dir / "confusion.png", gold, pred, title)
    return metrics
