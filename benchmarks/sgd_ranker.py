"""Response ranking on Schema-Guided Dialogue: 1-of-100 Recall@1/5 and MRR.

10% of dialogues are held out by id (seeded) as the test set; the ranker trains on the rest
(holding out its own validation dialogues for model selection). Reports, on the same test items, the
untuned MiniLM, the fine-tuned ranker as shipped (transformer and lexical towers fused with the
weight chosen on validation), each of its two parts alone, and the training wall time.

    python benchmarks/sgd_ranker.py --data ../shared/datasets/sgd/train.jsonl --out runs/sgd
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/datasets/sgd/train.jsonl"))
    ap.add_argument("--out", type=Path, default=Path("runs/sgd"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-pairs", type=int, default=24000)
    ap.add_argument("--context-turns", type=int, default=3)
    ap.add_argument("--skip-base", action="store_true", help="do not evaluate the untuned model")
    args = ap.parse_args()

    from assistant.ranker import ResponseRanker
    from training.data import load_dialogues
    from training.evaluate import evaluate_ranker, ranking_tasks, ranks_of, task_scores
    from training.metrics import ranking_metrics
    from training.ranker import RankerTrainConfig, train_ranker
    from training.split import split_dialogues

    args.out.mkdir(parents=True, exist_ok=True)
    dialogues = load_dialogues(args.data)
    train, test = split_dialogues(dialogues, 0.1, args.seed)
    for name, part in (("train", train), ("test", test)):
        with open(args.out / f"{name}.jsonl", "w") as fh:
            for d in part:
                turns = [
                    {"role": t.role, "text": t.text, **({"intent": t.intent} if t.intent else {})}
                    for t in d.turns
                ]
                fh.write(json.dumps({"id": d.id, "turns": turns}) + "\n")
    print(f"{len(train)} training dialogues, {len(test)} held out", flush=True)
    results = {}
    log = lambda m: print(m, flush=True)  # noqa: E731
    if not args.skip_base:
        train_ranker(
            RankerTrainConfig(
                data=str(args.out / "train.jsonl"),
                out=str(args.out / "base"),
                epochs=0,
                lexical=False,
                context_turns=args.context_turns,
                seed=args.seed,
            ),
            log=log,
        )
        results["untuned_minilm"] = evaluate_ranker(
            args.out / "base", args.out / "test.jsonl", seed=args.seed
        )
        print(json.dumps(results), flush=True)
    t0 = time.time()
    train_ranker(
        RankerTrainConfig(
            data=str(args.out / "train.jsonl"),
            out=str(args.out / "ranker"),
            max_pairs=args.max_pairs,
            context_turns=args.context_turns,
            seed=args.seed,
        ),
        log=log,
    )
    train_s = time.time() - t0
    ranker = ResponseRanker.load(args.out / "ranker")
    tasks = ranking_tasks(test, ranker.context_turns, seed=args.seed)
    parts = {"finetuned": ranker}
    if ranker.lexical is not None:
        parts["finetuned_transformer_only"] = ResponseRanker(
            ranker.encoder, ranker.manifest, ranker.path
        )
        parts["finetuned_lexical_only"] = ranker.lexical
    for name, model in parts.items():
        results[name] = ranking_metrics(ranks_of(task_scores(model, tasks)))
    results["finetuned"]["train_s"] = round(train_s, 1)
    results["finetuned"]["lexical_weight"] = ranker.lexical_weight
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
