"""CLINC150 intent benchmark: frozen-embedding baseline vs fine-tuning, out-of-scope modes.

Trains on train.csv, picks the out-of-scope threshold on val.csv only, reports test.csv:
in-scope accuracy, macro-F1, out-of-scope recall and precision, plus wall-clock training time.

    python benchmarks/clinc.py --data ../shared/datasets/clinc150 --out runs/clinc

Variants (each a separate training run):
    probe            frozen MiniLM embeddings + logistic regression (epochs=0), oos class+threshold
    finetune         fine-tuned from the probe, oos class + threshold (the default recipe)
    finetune-class   the same model, oos as a class only (no threshold)       [no extra training]
    finetune-thresh  fine-tuned without the oos class, threshold only           (--thresh-only)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def run(name, data, out, epochs, oos_mode, seed, log):
    from training.intent import IntentTrainConfig, train_intent

    cfg = IntentTrainConfig(
        data=str(data / "train.csv"),
        val=str(data / "val.csv"),
        out=str(out / name),
        epochs=epochs,
        oos_mode=oos_mode,
        seed=seed,
    )
    t0 = time.time()
    manifest = train_intent(cfg, log=log)
    return manifest, time.time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/datasets/clinc150"))
    ap.add_argument("--out", type=Path, default=Path("runs/clinc"))
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--variants", default="probe,finetune", help="comma-separated: probe, finetune, thresh-only"
    )
    args = ap.parse_args()
    from training.evaluate import evaluate_intent

    test = args.data / "test.csv"
    results = {}
    variants = args.variants.split(",")
    log = lambda m: print(m, flush=True)  # noqa: E731
    if "probe" in variants:
        m, t = run("probe", args.data, args.out, 0, "both", args.seed, log)
        results["probe"] = {
            **evaluate_intent(args.out / "probe", test),
            "train_s": round(t, 1),
            "threshold": m["threshold"],
        }
    if "finetune" in variants:
        m, t = run("finetune", args.data, args.out, args.epochs, "both", args.seed, log)
        results["finetune"] = {
            **evaluate_intent(args.out / "finetune", test),
            "train_s": round(t, 1),
            "threshold": m["threshold"],
            "selected": m["metrics"]["selected"],
            "best_epoch": m["metrics"]["best_epoch"],
        }
        results["finetune-class"] = {
            **evaluate_intent(args.out / "finetune", test, threshold=0.0),
            "threshold": 0.0,
        }
    if "thresh-only" in variants:
        m, t = run("thresh-only", args.data, args.out, args.epochs, "threshold", args.seed, log)
        results["finetune-thresh"] = {
            **evaluate_intent(args.out / "thresh-only", test),
            "train_s": round(t, 1),
            "threshold": m["threshold"],
        }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
