"""CLINC150 intent benchmark: frozen-embedding baseline vs fine-tuning, out-of-scope modes.

Trains on train.csv, picks the out-of-scope threshold on val.csv only, reports test.csv:
in-scope accuracy, macro-F1, out-of-scope recall and precision, plus wall-clock training time.

    python benchmarks/clinc.py --data ../shared/datasets/clinc150 --out runs/clinc

Variants (each a separate training run):
    probe            frozen MiniLM embeddings + logistic regression (epochs=0), oos class+threshold
    finetune         fine-tuned from the probe, oos class + threshold (the default recipe)
    finetune-class   the same model, oos as a class only (no threshold)       [no extra training]
    finetune-thresh  fine-tuned without the oos class, threshold only           (--thresh-only)
    lora             LoRA adapters (rank --lora-rank) on the attention's query/value instead of
                     the whole body, head trained fully; same data, epochs and seed as finetune
    lora-all         the same with adapters on every linear layer of the transformer

LoRA rows add the adapter file's size (what a version would store if it kept only adapters)
beside the size of the saved model directory (merged weights + ONNX export: what it stores).

    python benchmarks/clinc.py --variants finetune,lora,lora-all --epochs 3
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


class StageLog:
    """Prints the trainer's messages with the UTC time and notes when the probe was done and
    when the last epoch ended: the fine-tuning stage alone (what LoRA changes) is the time
    between the two, validation after each epoch included."""

    def __init__(self) -> None:
        self.probe_done = self.last_epoch = None

    def __call__(self, message: str) -> None:
        now = time.time()
        if message.startswith("probe:"):
            self.probe_done, self.last_epoch = now, None
        elif message.startswith("epoch "):
            self.last_epoch = now
        print(f"[{time.strftime('%H:%M:%S', time.gmtime(now))}] {message}", flush=True)

    def finetune_s(self) -> float | None:
        if self.probe_done is None or self.last_epoch is None:
            return None
        return round(self.last_epoch - self.probe_done, 1)


def capped(src: Path, dst: Path, cap: int | None, seed: int) -> Path:
    """`src` with at most `cap` examples of each in-scope intent (drawn with `seed`; every
    `oos` example kept), written to `dst`; `src` itself when there is no cap."""
    if not cap:
        return src
    import csv
    import random

    with open(src, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rng = random.Random(seed)
    rng.shuffle(rows)
    kept, seen = [], {}
    for row in rows:
        seen[row["label"]] = seen.get(row["label"], 0) + 1
        if row["label"] == "oos" or seen[row["label"]] <= cap:
            kept.append(row)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(dst, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["text", "label"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(kept)
    return dst


def run(name, train, val, out, epochs, oos_mode, seed, log, **extra):
    from training.intent import IntentTrainConfig, train_intent

    cfg = IntentTrainConfig(
        data=str(train),
        val=str(val),
        out=str(out / name),
        epochs=epochs,
        oos_mode=oos_mode,
        seed=seed,
        **extra,
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
        "--variants",
        default="probe,finetune",
        help="comma-separated: probe, finetune, thresh-only, lora, lora-all",
    )
    ap.add_argument("--lora-rank", type=int, default=8, help="rank of the lora variants")
    ap.add_argument(
        "--train-per-intent", type=int, default=None, help="cap per in-scope intent (all oos kept)"
    )
    ap.add_argument("--val-per-intent", type=int, default=None, help="the same for val.csv")
    args = ap.parse_args()
    from training.evaluate import evaluate_intent

    test = args.data / "test.csv"  # always the whole test set
    train = capped(args.data / "train.csv", args.out / "train.csv", args.train_per_intent, 0)
    val = capped(args.data / "val.csv", args.out / "val.csv", args.val_per_intent, 0)
    data = (train, val)
    results = {}
    variants = args.variants.split(",")
    log = StageLog()
    if "probe" in variants:
        m, t = run("probe", *data, args.out, 0, "both", args.seed, log)
        results["probe"] = {
            **evaluate_intent(args.out / "probe", test),
            "train_s": round(t, 1),
            "threshold": m["threshold"],
        }
    if "finetune" in variants:
        m, t = run("finetune", *data, args.out, args.epochs, "both", args.seed, log)
        results["finetune"] = {
            **evaluate_intent(args.out / "finetune", test),
            "train_s": round(t, 1),
            "finetune_s": log.finetune_s(),
            "threshold": m["threshold"],
            "selected": m["metrics"]["selected"],
            "best_epoch": m["metrics"]["best_epoch"],
        }
        print(json.dumps({"finetune": results["finetune"]}), flush=True)
        results["finetune-class"] = {
            **evaluate_intent(args.out / "finetune", test, threshold=0.0),
            "threshold": 0.0,
        }
    if "thresh-only" in variants:
        m, t = run("thresh-only", *data, args.out, args.epochs, "threshold", args.seed, log)
        results["finetune-thresh"] = {
            **evaluate_intent(args.out / "thresh-only", test),
            "train_s": round(t, 1),
            "threshold": m["threshold"],
        }
    for name, targets in (("lora", "query-value"), ("lora-all", "all-linear")):
        if name not in variants:
            continue
        extra = {"lora_rank": args.lora_rank, "lora_targets": targets}
        m, t = run(name, *data, args.out, args.epochs, "both", args.seed, log, **extra)
        results[name] = {
            **evaluate_intent(args.out / name, test),
            "train_s": round(t, 1),
            "finetune_s": log.finetune_s(),
            "threshold": m["threshold"],
            "selected": m["metrics"]["selected"],
            "best_epoch": m["metrics"]["best_epoch"],
            **sizes(args.out / name),
            **{f"lora_{k}": m["lora"][k] for k in ("rank", "alpha", "targets", "adapter_params")},
            "adapter_bytes": m["lora"]["adapter_bytes"],
        }
        print(json.dumps({name: results[name]}), flush=True)  # kept if a later run fails
    if "finetune" in results:
        results["finetune"].update(sizes(args.out / "finetune"))
    print(json.dumps(results, indent=2))


def sizes(model_dir: Path) -> dict:
    """Bytes of a saved model: its weights file, and the whole directory (with the ONNX
    export, the head, the tokenizer and the report)."""
    files = [p for p in model_dir.rglob("*") if p.is_file()]
    return {
        "weights_bytes": (model_dir / "model.safetensors").stat().st_size,
        "dir_bytes": sum(p.stat().st_size for p in files),
    }


if __name__ == "__main__":
    main()
