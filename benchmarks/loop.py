"""The learning loop, measured on CLINC150: starve, replay, correct, retrain, poison.

    python benchmarks/loop.py --data ../shared/datasets/clinc150 --out runs/loop

1. base data   train.csv with `--starve` intents (seeded) cut to `--keep` examples each (the
               others to `--per-intent`, all by default); as dialogues (customer message with
               its intent, a canned agent reply per intent) so the ranker has data too
2. version 1   `assistant train intent` + `assistant train ranker --epochs 0` into MODELS/
3. replay      held-out messages (the starved intents' cut examples and `--val-per-intent`
               messages of every intent from val.csv) through `assistant ask --batch --json`
4. correct     at most `--corrections` turns, lowest confidence first, as an agent who knows
               the true label: `assistant log correct --file` (a right prediction is
               confirmed with its own label)
5. retrain     `assistant retrain --data base.jsonl --eval test.csv --json`, timed
6. scores      accuracy on the starved intents' test examples and overall, before and after
7. pseudo      (with `--pseudo T`) the same retraining from version 1 with predictions of
               confidence >= T as labels too, to see whether they help
8. poison      every correction of 3 starved intents relabelled as another intent, retrain:
               the gate must refuse, and the current version must stay as it was

Every step is the command line a user would run (subprocesses, `python -m assistant`).
Prints a summary and writes OUT/summary.json.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path


def read_csv(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [(r["text"], r["label"]) for r in csv.DictReader(fh)]


def write_csv(path: Path, rows, header=("text", "label")) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def assistant(*args: str, log: Path, capture: bool = False) -> tuple[str, float]:
    """Run `python -m assistant ARGS`; stderr (progress) goes to `log`. Returns (stdout, s)."""
    t0 = time.time()
    with log.open("a") as err:
        err.write(f"\n$ assistant {' '.join(args)}\n")
        err.flush()
        proc = subprocess.run(
            [sys.executable, "-m", "assistant", *args],
            stdout=subprocess.PIPE if capture else err,
            stderr=err,
            text=True,
        )
    if proc.returncode != 0:
        sys.exit(f"`assistant {' '.join(args)}` failed ({proc.returncode}); see {log}")
    return (proc.stdout or "") if capture else "", time.time() - t0


def has_command(*words: str) -> bool:
    """Whether this checkout's `assistant` has the command (or option) `words`."""
    *cmd, last = words
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", *cmd, "--help"], capture_output=True, text=True
    )
    return proc.returncode == 0 and (last in proc.stdout if last.startswith("-") else True)


def replay_in_process(path: Path, models: Path, db: Path) -> list[dict]:
    """What `ask --batch --json` does, for a checkout without it: one service, each line a
    new conversation."""
    from assistant.service import open_service

    svc = open_service(models, None, db)
    out = []
    try:
        for line in path.read_text().splitlines():
            cid = svc.new_conversation(channel="cli")
            reply = svc.respond(cid, json.loads(line)["text"])
            state = svc.log.transcript(cid)
            turn_id = next(t.id for t in state if t.role == "customer")
            out.append({**reply.to_json(), "turn_id": turn_id})
    finally:
        svc.close()
    return out


def correct_in_process(db: Path, rows) -> None:
    """What `log correct --file` does, for a checkout without it."""
    from assistant.log import ConversationLog

    with ConversationLog(db) as log:
        for turn_id, intent, agent in rows:
            log.add_correction(turn_id, corrected_intent=intent, agent=agent)


def reply_for(label: str) -> str:
    return f"I can help with {label.replace('_', ' ')}: here is what to do next."


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def accuracy(models: Path, data: Path, log: Path) -> dict:
    out, _ = assistant(
        "eval", "intent", "--model", str(models), "--data", str(data), "--json",
        log=log, capture=True,
    )  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def correct(path: Path, rows, db: Path, log: Path, summary: dict) -> None:
    if summary["paths"]["correct"] == "log correct --file":
        assistant("log", "correct", "--file", str(path), "--db", str(db), log=log)
    else:
        correct_in_process(db, rows)


def retrain(models: Path, db: Path, log: Path, *extra: str) -> tuple[dict, float]:
    out, secs = assistant(
        "retrain", "--models", str(models), "--db", str(db), "--json", *extra,
        log=log, capture=True,
    )  # fmt: skip
    return json.loads(out.strip().splitlines()[-1]), secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/datasets/clinc150"))
    ap.add_argument("--out", type=Path, default=Path("runs/loop"))
    ap.add_argument("--starve", type=int, default=10, help="intents starved")
    ap.add_argument("--keep", type=int, default=5, help="training examples a starved one keeps")
    ap.add_argument("--per-intent", type=int, default=None, help="cap for the other intents")
    ap.add_argument("--val-per-intent", type=int, default=20, help="replayed val messages")
    ap.add_argument("--test-per-intent", type=int, default=None, help="cap on test examples")
    ap.add_argument("--corrections", type=int, default=300)
    ap.add_argument("--epochs", type=int, default=3, help="intent fine-tuning epochs")
    ap.add_argument("--pseudo", type=float, default=None, help="also retrain with pseudo-labels")
    ap.add_argument("--no-poison", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    out = args.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    log = out / "commands.log"
    models, db = out / "models", out / "conversations.db"
    summary: dict = {"args": {k: str(v) for k, v in vars(args).items()}}

    # 1. base data ------------------------------------------------------------------------------
    train = read_csv(args.data / "train.csv")
    by_label: dict[str, list[str]] = defaultdict(list)
    for text, label in train:
        by_label[label].append(text)
    intents = sorted(set(by_label) - {"oos"})
    starved = sorted(rng.sample(intents, args.starve))
    base, held = [], []
    for label in sorted(by_label):
        texts = by_label[label][:]
        rng.shuffle(texts)
        n = args.keep if label in starved else (args.per_intent or len(texts))
        base += [(t, label) for t in texts[:n]]
        if label in starved:
            held += [(t, label) for t in texts[n:]]
    with (out / "base.jsonl").open("w") as fh:
        for i, (text, label) in enumerate(base):
            turns = [{"role": "customer", "text": text, "intent": label}]
            turns.append({"role": "agent", "text": reply_for(label)})
            fh.write(json.dumps({"id": f"b{i}", "turns": turns}) + "\n")
    test = read_csv(args.data / "test.csv")
    if args.test_per_intent:
        per: dict[str, list] = defaultdict(list)
        for row in test:
            per[row[1]].append(row)
        # out of scope keeps 10x as many (it is one label standing for everything else)
        test = [
            r
            for label, rows in per.items()
            for r in rows[: args.test_per_intent * (10 if label == "oos" else 1)]
        ]
    write_csv(out / "test.csv", test)
    write_csv(out / "test_starved.csv", [r for r in test if r[1] in starved])
    val = read_csv(args.data / "val.csv")
    per_val: dict[str, list] = defaultdict(list)
    for row in val:
        per_val[row[1]].append(row)
    replay = held + [r for rows in per_val.values() for r in rows[: args.val_per_intent]]
    rng.shuffle(replay)
    summary["sizes"] = {
        "base": len(base),
        "starved": starved,
        "replay": len(replay),
        "test": len(test),
        "test_starved": sum(1 for r in test if r[1] in starved),
    }
    print(json.dumps(summary["sizes"]), flush=True)

    # 2. version 1 --------------------------------------------------------------------------------
    _, t_intent = assistant(
        "train", "intent", "--data", str(out / "base.jsonl"), "--out", str(models / "intent"),
        "--epochs", str(args.epochs), log=log,
    )  # fmt: skip
    _, t_ranker = assistant(
        "train", "ranker", "--data", str(out / "base.jsonl"), "--out", str(models / "ranker"),
        "--epochs", "0", "--max-pairs", "2000", log=log,
    )  # fmt: skip
    summary["train_v1_s"] = {"intent": round(t_intent), "ranker": round(t_ranker)}

    # 3. replay -----------------------------------------------------------------------------------
    with (out / "replay.jsonl").open("w") as fh:
        for text, _ in replay:
            fh.write(json.dumps({"text": text}) + "\n")
    summary["paths"] = {
        "replay": "ask --batch" if has_command("ask", "--batch") else "in process",
        "correct": "log correct --file"
        if has_command("log", "correct", "--file")
        else "in process",
    }
    if summary["paths"]["replay"] == "ask --batch":
        replies, t_replay = assistant(
            "ask", "--batch", str(out / "replay.jsonl"), "--models", str(models), "--db",
            str(db), "--json", log=log, capture=True,
        )  # fmt: skip
        answers = [json.loads(line) for line in replies.splitlines() if line.startswith("{")]
    else:
        t0 = time.time()
        answers = replay_in_process(out / "replay.jsonl", models, db)
        t_replay = time.time() - t0
    assert len(answers) == len(replay), (len(answers), len(replay))
    summary["replay_s"] = round(t_replay)

    # 4. corrections, lowest confidence first ---------------------------------------------------
    order = sorted(range(len(answers)), key=lambda i: answers[i]["confidence"])[: args.corrections]
    rows = [(answers[i]["turn_id"], replay[i][1], "bench-agent") for i in order]
    wrong = sum(1 for i in order if answers[i]["intent"] != replay[i][1])
    write_csv(out / "corrections.csv", rows, ("turn_id", "intent", "agent"))
    correct(out / "corrections.csv", rows, db, log, summary)
    summary["corrections"] = {
        "reviewed": len(rows),
        "changed": wrong,
        "confirmed": len(rows) - wrong,
        "of_starved_intents": sum(1 for i in order if replay[i][1] in starved),
    }
    backup = out / "models-v1"
    shutil.copytree(models, backup)  # version 1 as it was, for the pseudo-label comparison

    # 5-6. retrain, scores ------------------------------------------------------------
    before_starved = accuracy(models, out / "test_starved.csv", log)
    result, t_retrain = retrain(
        models, db, log, "--data", str(out / "base.jsonl"), "--eval", str(out / "test.csv")
    )
    after_starved = accuracy(models / "versions" / result["version"], out / "test_starved.csv", log)
    summary["loop"] = {
        "retrain_s": round(t_retrain),
        "promoted": result["promoted"],
        "reasons": result["reasons"],
        "overall_before": result["metrics"]["current"],
        "overall_after": result["metrics"]["candidate"],
        "starved_accuracy_before": before_starved["accuracy"],
        "starved_accuracy_after": after_starved["accuracy"],
    }
    print(json.dumps(summary["loop"], indent=2), flush=True)

    # 7. pseudo-labels: the same retraining from version 1, predictions >= T as labels too ------
    if args.pseudo is not None:
        (backup / "retrain.json").write_text(json.dumps({"min_confidence": args.pseudo}))
        res_p, t_p = retrain(
            backup, db, log, "--data", str(out / "base.jsonl"), "--eval", str(out / "test.csv")
        )
        st = accuracy(backup / "versions" / res_p["version"], out / "test_starved.csv", log)
        summary["pseudo"] = {
            "min_confidence": args.pseudo,
            "retrain_s": round(t_p),
            "overall_after": res_p["metrics"]["candidate"],
            "starved_accuracy_after": st["accuracy"],
        }
        print(json.dumps(summary["pseudo"], indent=2), flush=True)

    # 8. poison: every correction of 3 starved intents relabelled as another intent ------------
    if not args.no_poison:
        counts = defaultdict(int)
        for i in order:
            counts[replay[i][1]] += replay[i][1] in starved
        victims = [lab for lab, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n][:3]
        target = next(lab for lab in intents if lab not in victims)
        poison = [(answers[i]["turn_id"], target, "mallory") for i in order
                  if replay[i][1] in victims]  # fmt: skip
        write_csv(out / "poison.csv", poison, ("turn_id", "intent", "agent"))
        current = models / "current"
        pointer = current.read_text()
        cur_dir = models / "versions" / json.loads(pointer)["version"]
        head = sha(cur_dir / "intent" / "head.safetensors")
        correct(out / "poison.csv", poison, db, log, summary)
        # --data again: when the loop's candidate was refused, version 1 (no snapshot) is current
        res_x, t_x = retrain(
            models, db, log, "--data", str(out / "base.jsonl"), "--eval", str(out / "test.csv")
        )
        summary["poison"] = {
            "victims": victims,
            "relabelled_as": target,
            "corrections": len(poison),
            "promoted": res_x["promoted"],
            "reasons": res_x["reasons"],
            "retrain_s": round(t_x),
            "current_untouched": current.read_text() == pointer
            and sha(cur_dir / "intent" / "head.safetensors") == head,
        }
        print(json.dumps(summary["poison"], indent=2), flush=True)

    sizes = {}
    for vid in sorted(os.listdir(models / "versions")):
        if vid.isdigit():
            p = models / "versions" / vid
            files = [f for f in p.rglob("*") if f.is_file()]
            inodes = {f.stat().st_ino: f.stat().st_size for f in files}
            sizes[vid] = {"bytes": sum(f.stat().st_size for f in files), "unique": inodes}
    all_inodes: dict = {}
    for vid, s in sizes.items():
        own = sum(size for ino, size in s["unique"].items() if ino not in all_inodes)
        all_inodes.update(s["unique"])
        sizes[vid] = {"bytes": s["bytes"], "new_bytes": own}
    summary["version_sizes"] = sizes
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps({"version_sizes": sizes}, indent=2))


if __name__ == "__main__":
    main()
