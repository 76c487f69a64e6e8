"""kill -9 in the middle of a stream of turns: is every reply that was returned on disk?

Each run starts a fresh Python process that opens the assistant on a log file and answers
messages in a loop (one conversation, one message after another, as `assistant chat` does),
printing the id of each reply's turn the moment `respond` returns it. After a random number of
replies (or a random time, whichever comes first) this script kills it with SIGKILL, then opens
the log itself and counts:

- `returned`: replies the child printed (returned to its caller) before it died;
- `on_disk`: of those, how many are stored: in the log, or in the spool beside it (written into
  the log at the next start), exactly once;
- `lost`: returned but stored nowhere (the durability contract says 0);
- `half`: customer turns stored without the reply the engine gave them, or the reverse;
- `integrity`: SQLite's `PRAGMA integrity_check` on the file, after the kill.

Prints one JSON line per run, then a summary line
`{"runs", "returned", "lost", "half", "intact", "extra"}`; `extra` counts exchanges stored but
never returned (the one being answered when the kill came), which the contract allows.

A kill lands at a random moment, so a reply that is on disk a few milliseconds after it was
returned is rarely caught out. `--probe` measures that window directly, without a kill: another
connection looks for each reply's turn the moment `respond` returns it, and the script prints
`{"probe": n, "in_file_at_return": k}` (the contract says k == n).

    python benchmarks/kill9.py --models /tmp/tiny/models --runs 20    # tiny trained models
    python benchmarks/kill9.py --engine instant --runs 20             # no models: the log only
    python benchmarks/kill9.py --src /path/to/other/checkout ...      # another version's code
    python benchmarks/kill9.py --engine instant --probe 200           # on disk when returned?
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import sys
from assistant.log import ConversationLog
from assistant.reply import Decision
from assistant.service import AssistantService, open_service

engine_kind, models, db = sys.argv[1], sys.argv[2], sys.argv[3]


class InstantEngine:
    # Answers at once: the turn rate is what the log can take (the issue's "fast engine").
    versions = {"intent": "instant", "ranker": "instant"}

    def decide(self, history, message, low_streak=0):
        return Decision("Thanks, I am on it.", "ranker", "instant", intent="order_status",
                        confidence=0.9, top_intents=[("order_status", 0.9)])


if engine_kind == "instant":
    svc = AssistantService(InstantEngine(), ConversationLog(db))
else:
    svc = open_service(models, None, db)
    svc.wait_ready()
cid = svc.new_conversation()
probe = int(sys.argv[4]) if len(sys.argv) > 4 else 0
if probe:  # no kill: is each reply in the file, for another connection, when it is returned?
    import sqlite3
    other = sqlite3.connect(db)
    found = 0
    for i in range(probe):
        reply = svc.respond(cid, f"where is my order, message {i}?")
        sql = "SELECT COUNT(*) FROM turns WHERE id = ?"
        found += other.execute(sql, [reply.turn_id]).fetchone()[0]
    print(found, flush=True)
    svc.close()
    sys.exit(0)
print("ready", flush=True)
i = 0
while True:
    reply = svc.respond(cid, f"where is my order, message {i}?")
    print(reply.turn_id, flush=True)
    i += 1
"""


def stored_ids(db: Path) -> tuple[dict[str, int], list[tuple[str, str]], str]:
    """Turns in the log and then the spool: id -> times stored, (id, role) in order, integrity."""
    counts: dict[str, int] = {}
    conn = sqlite3.connect(db)
    integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    turns = []
    for turn_id, role in conn.execute("SELECT id, role FROM turns ORDER BY conversation_id, seq"):
        counts[turn_id] = counts.get(turn_id, 0) + 1
        turns.append((turn_id, role))
    conn.close()
    spool = db.with_name(db.name + ".spool.jsonl")
    if spool.exists():
        for line in spool.read_text().splitlines():
            try:
                exchange = json.loads(line)["exchange"]
            except (ValueError, KeyError):
                continue  # a line the kill cut short: never acknowledged
            for row in (exchange["customer"], exchange["answer"]):
                if row is not None:
                    counts[row["id"]] = counts.get(row["id"], 0) + 1
                    turns.append((row["id"], row["role"]))
    return counts, turns, integrity


def one_run(args: argparse.Namespace, seed: int) -> dict:
    rng = random.Random(seed)
    db = Path(tempfile.mkdtemp(prefix="kill9-")) / "conversations.db"
    env = {**os.environ, "PYTHONPATH": str(args.src), "OMP_NUM_THREADS": "1"}
    env["ASSISTANT_HOME"] = str(db.parent / "home")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, args.engine, str(args.models), str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=args.src,  # `python -c` puts the working directory first on sys.path
    )
    assert child.stdout is not None
    if child.stdout.readline().strip() != b"ready":
        raise SystemExit(f"the child did not start: {child.stderr.read().decode()[-2000:]}")
    after_replies = rng.randint(1, args.max_replies)
    after_s = rng.uniform(0.05, args.max_seconds)
    timer = threading.Timer(after_s, child.send_signal, [signal.SIGKILL])
    timer.start()
    returned = []
    for line in child.stdout:
        returned.append(line.decode().strip())
        if len(returned) >= after_replies:
            child.send_signal(signal.SIGKILL)
            break
    returned += [line.decode().strip() for line in child.stdout]  # printed before it died
    timer.cancel()
    child.wait()
    returned = [r for r in returned if r]
    counts, turns, integrity = stored_ids(db)
    lost = [r for r in returned if counts.get(r, 0) == 0]
    roles = [role for _, role in turns]
    answers = {turn_id for turn_id, role in turns if role == "assistant"}
    pairs_ok = roles == ["customer", "assistant"] * (len(roles) // 2)
    return {
        "seed": seed,
        "killed_after_s": round(after_s, 2),
        "returned": len(returned),
        "on_disk": len(returned) - len(lost),
        "lost": len(lost),
        "stored_twice": sum(1 for r in returned if counts.get(r, 0) > 1),
        "half": 0 if pairs_ok else 1,
        "extra": len(answers - set(returned)),
        "integrity": integrity,
    }


def probe(args: argparse.Namespace) -> dict:
    """Run the child in probe mode: how many replies are in the file when they are returned."""
    db = Path(tempfile.mkdtemp(prefix="kill9-")) / "conversations.db"
    env = {**os.environ, "PYTHONPATH": str(args.src), "OMP_NUM_THREADS": "1"}
    env["ASSISTANT_HOME"] = str(db.parent / "home")
    run = subprocess.run(
        [sys.executable, "-c", CHILD, args.engine, str(args.models), str(db), str(args.probe)],
        capture_output=True,
        text=True,
        env=env,
        cwd=args.src,  # `python -c` puts the working directory first on sys.path
        check=True,
    )
    return {"probe": args.probe, "in_file_at_return": int(run.stdout.split()[-1])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=Path("/tmp/tiny/models"))
    ap.add_argument("--engine", choices=("models", "instant"), default="models")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--max-replies", type=int, default=400, help="kill after at most this many")
    ap.add_argument("--max-seconds", type=float, default=3.0, help="or after at most this long")
    ap.add_argument("--src", type=Path, default=ROOT, help="checkout whose code the child runs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--probe", type=int, default=0, help="no kill: check N replies on return")
    args = ap.parse_args()
    args.src, args.models = args.src.resolve(), args.models.resolve()  # children run in src
    if args.probe:
        print(json.dumps(probe(args)))
        return
    t0 = time.perf_counter()
    runs = []
    for i in range(args.runs):
        run = one_run(args, args.seed + i)
        runs.append(run)
        print(json.dumps(run), flush=True)
    print(
        json.dumps(
            {
                "runs": len(runs),
                "returned": sum(r["returned"] for r in runs),
                "lost": sum(r["lost"] for r in runs),
                "stored_twice": sum(r["stored_twice"] for r in runs),
                "half": sum(r["half"] for r in runs),
                "intact": sum(r["integrity"] == "ok" for r in runs),
                "extra": sum(r["extra"] for r in runs),
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
