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
    joint           with --joint SGD_TRAIN: one MiniLM body fine-tuned on both objectives at
                    once, each step one ranker batch (in-batch negatives on SGD context/reply
                    pairs, the ranker's recipe) plus one intent batch (label-smoothed
                    cross-entropy on CLINC150, the intent recipe's loss) summed; then a linear
                    probe on that body for the intents (the product's trainer, epochs=0), and
                    the body put into a copy of --ranker (its lexical towers kept) for
                    `assistant eval ranker` on --sgd-test

Prints the machine and one JSON object {variant: {accuracy, macro_f1, oos_recall, ...}}.

    python benchmarks/sgd_ranker.py --out runs/sgd            # a ranker trained on SGD
    python benchmarks/clinc.py --out runs/clinc --variants finetune
    python benchmarks/shared_body.py --ranker runs/sgd/ranker --separate runs/clinc/finetune
    python benchmarks/shared_body.py --ranker runs/sgd/ranker --joint runs/sgd/train.jsonl \
        --sgd-test runs/sgd/test.jsonl --out runs/shared_body      # ~25 min on 2 cores
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
    ap.add_argument("--joint", type=Path, help="SGD training dialogues: train one joint body")
    ap.add_argument("--sgd-test", type=Path, help="SGD test dialogues for the joint ranker")
    ap.add_argument("--steps", type=int, default=375, help="joint steps (375 = one SGD epoch)")
    args = ap.parse_args()
    print(json.dumps(machine()), file=sys.stderr)
    if args.joint:
        print(json.dumps(joint(args), indent=2))
        return

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


def _joint_head(data: Path, labels: list[str], head, embed, torch) -> dict:
    """The intent head trained with the joint body, read as the product reads a classifier:
    the out-of-scope threshold chosen on validation (`choose_threshold`), applied to test."""
    import numpy as np

    from training.data import load_intent_examples
    from training.metrics import choose_threshold, intent_metrics

    def probs(examples) -> np.ndarray:
        out = []
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            for i in range(0, len(examples), 256):
                x = embed([e.text for e in examples[i : i + 256]], 64)
                out.append(torch.softmax(head(x).float(), -1).numpy())
        return np.concatenate(out)

    val, test = load_intent_examples(data / "val.csv"), load_intent_examples(data / "test.csv")
    threshold, _ = choose_threshold(probs(val), [e.label for e in val], labels, "oos", 0.003)
    p = probs(test)
    best = p.argmax(1)
    pred = [
        "oos" if labels[b] == "oos" or p[i, b] < threshold else labels[b]
        for i, b in enumerate(best)
    ]
    return {"threshold": threshold, **intent_metrics([e.label for e in test], pred, "oos")}


def joint(args) -> dict:
    """Train one body on both objectives, then measure each head's task (see the docstring)."""
    import math
    import random
    import shutil
    import subprocess

    import torch

    from kb.encoder import Encoder, mean_pool
    from kb.manifest import file_checksums
    from training.data import load_dialogues, load_intent_examples
    from training.evaluate import evaluate_intent
    from training.intent import IntentTrainConfig, train_intent
    from training.losses import in_batch_loss
    from training.prepare import ranking_examples

    torch.manual_seed(0)
    rng = random.Random(0)
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    enc = Encoder.load(None, precision="fp32")
    model = enc.model
    model.get_input_embeddings().weight.requires_grad_(False)  # both recipes freeze them
    pairs = ranking_examples(load_dialogues(args.joint), 3)
    pairs = rng.sample(pairs, min(len(pairs), 24_000))  # the SGD ranker's max_pairs
    intents = load_intent_examples(args.data / "train.csv")
    labels = sorted({e.label for e in intents})
    y_all = [labels.index(e.label) for e in intents]
    head = torch.nn.Linear(enc.dim, len(labels))
    weights = torch.ones(len(labels))
    weights[labels.index("oos")] = 3.0  # the intent recipe's oos weight
    ce = torch.nn.CrossEntropyLoss(weight=weights, label_smoothing=0.1)
    body = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(
        [{"params": body, "lr": 1e-4}, {"params": head.parameters(), "lr": 2e-3}],
        weight_decay=0.01,
    )
    steps, warm = args.steps, max(1, args.steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm))
    )
    # three intent epochs over the run (at most 256 texts a step: a short run trains less)
    intent_batch = min(256, math.ceil(3 * len(intents) / steps))

    def embed(texts, max_length):
        b = enc.tokenize(texts, max_length)
        out = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"])
        return mean_pool(out.last_hidden_state, b["attention_mask"])

    model.train()
    t0 = time.time()
    reply_id: dict[str, int] = {}
    order = list(range(len(intents)))
    for step in range(steps):
        batch = pairs[(step * 64) % len(pairs) :][:64]
        ids = [reply_id.setdefault(e.reply, len(reply_id)) for e in batch]
        if step * intent_batch % len(order) < intent_batch:
            rng.shuffle(order)
        start = (step * intent_batch) % len(order)
        pick = (order + order)[start : start + intent_batch]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            c = embed([e.context for e in batch], 48)
            r = embed([e.reply for e in batch], 32)
            rank_loss = in_batch_loss(torch, c, r, ids, 20.0, True)
            x = embed([intents[i].text for i in pick], 64)
            intent_loss = ce(head(x).float(), torch.tensor([y_all[i] for i in pick]))
        loss = rank_loss + intent_loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(body, 1.0)
        opt.step()
        sched.step()
        if step % 25 == 0 or step == steps - 1:
            say(
                f"step {step + 1}/{steps}: ranking {rank_loss.item():.3f}, intent "
                f"{intent_loss.item():.3f}, {time.time() - t0:.0f}s"
            )
    model.eval()
    result_head = _joint_head(args.data, labels, head, embed, torch)
    body_dir = args.out / "joint-body"
    enc.save(body_dir, max_length=256, onnx=False)
    train_s = round(time.time() - t0, 1)
    # intents: the product's trainer, a linear probe on the frozen joint body
    probe = args.out / "joint-intent-probe"
    train_intent(
        IntentTrainConfig(
            data=str(args.data / "train.csv"),
            val=str(args.data / "val.csv"),
            out=str(probe),
            base_model=str(body_dir),
            epochs=0,
        ),
        log=say,
    )
    result = {"train_s": train_s, "steps": steps, "intent_batch": intent_batch}
    result["intent_joint_head"] = result_head
    result["intent_probe_on_joint_body"] = evaluate_intent(probe, args.data / "test.csv")
    # ranking: the joint body inside a copy of the SGD ranker (its lexical towers kept)
    ranker = args.out / "joint-ranker"
    shutil.rmtree(ranker, ignore_errors=True)
    shutil.copytree(args.ranker, ranker, ignore=shutil.ignore_patterns("onnx"))
    shutil.copy(body_dir / "model.safetensors", ranker / "model.safetensors")
    manifest = json.loads((ranker / "manifest.json").read_text())
    manifest["checksums"] = file_checksums(ranker, list(manifest["checksums"]))
    (ranker / "manifest.json").write_text(json.dumps(manifest, indent=2))
    if args.sgd_test:
        for name, directory in (("ranker_own_body", args.ranker), ("ranker_joint_body", ranker)):
            out = subprocess.run(
                [
                    "assistant",
                    "eval",
                    "ranker",
                    "--model",
                    str(directory),
                    "--data",
                    str(args.sgd_test),
                    "--json",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            result[name] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    main()
