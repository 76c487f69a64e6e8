"""Can the intent classifier ride on the ranker's body? One encoder, two heads, on CLINC150.

The runtime loads two fine-tuned MiniLM bodies: the intent classifier's and the response
ranker's (~90 MB of fp32 weights each, one forward pass each per turn). Sharing one body would
halve the weights held and the demo's training. This measures the cheapest way to share it, on
CLINC150 (train.csv to train, val.csv for the out-of-scope threshold, test.csv to report):

    minilm-probe    a linear head on the frozen bundled MiniLM (the trainer's probe, epochs=0)
    ranker-probe    a linear head on the frozen body of a trained ranker (the shared body:
                    the ranker is untouched, so its own accuracy cannot change)
    separate        the intent model as trained today (its own fine-tuned body), for reference:
                    pass its directory with --separate (e.g. from benchmarks/clinc.py)

Prints the machine and one JSON object {variant: {accuracy, macro_f1, oos_recall, ...}}.

    python benchmarks/sgd_ranker.py --out runs/sgd            # a ranker trained on SGD
    python benchmarks/clinc.py --out runs/clinc --variants finetune
    python benchmarks/shared_body.py --ranker runs/sgd/ranker --separate runs/clinc/finetune
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/datasets/clinc150"))
    ap.add_argument("--ranker", type=Path, required=True, help="a trained ranker directory")
    ap.add_argument("--separate", type=Path, help="an intent model trained on the same data")
    ap.add_argument("--out", type=Path, default=Path("runs/shared_body"))
    args = ap.parse_args()
    print(json.dumps(machine()), file=sys.stderr)

    from training.evaluate import evaluate_intent
    from training.intent import IntentTrainConfig, train_intent

    test = args.data / "test.csv"
    results = {}
    for name, base in (("minilm-probe", None), ("ranker-probe", str(args.ranker))):
        cfg = IntentTrainConfig(
            data=str(args.data / "train.csv"),
            val=str(args.data / "val.csv"),
            out=str(args.out / name),
            base_model=base,
            epochs=0,
        )
        t0 = time.time()
        train_intent(cfg, log=lambda m: print(m, file=sys.stderr, flush=True))
        results[name] = {
            **evaluate_intent(args.out / name, test),
            "train_s": round(time.time() - t0, 1),
        }
    if args.separate:
        results["separate"] = evaluate_intent(args.separate, test)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
