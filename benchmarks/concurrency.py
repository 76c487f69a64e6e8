"""Concurrent `assistant ask` processes on one log: is every turn stored, in order, once?

`--procs` workers (default 4) each run `--turns / --procs` `assistant ask --conversation ID`
commands one after another, all at the same time, against one log file. The workers go through
the same few conversation ids in the same order, so their first turns of each new conversation
start it at the same moment (the case that used to fail with `UNIQUE constraint failed`) and
every later turn races the others for the next `seq` of a shared conversation. Then the log is
read back and checked:

- `exit_ok`: commands that exited 0 (each prints its reply only once it is stored);
- `stored`: customer messages found in the log, each exactly once (`duplicates` otherwise);
- `seq_ok`: every conversation's `seq` is 1, 2, ..., n with no gap or repeat;
- `pairs_ok`: every customer turn is followed by the assistant's reply to it (one transaction);
- `integrity`: SQLite's `PRAGMA integrity_check`.

Prints one JSON object. `--src` runs another checkout's code (to compare versions).

    python benchmarks/concurrency.py --models /tmp/tiny/models            # 4 processes, 100 turns
    python benchmarks/concurrency.py --procs 8 --turns 200 --conversations 3
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def worker(args, db: Path, w: int, n: int, results: list, lock: threading.Lock) -> None:
    env = {**os.environ, "PYTHONPATH": str(args.src), "OMP_NUM_THREADS": "1"}
    env["ASSISTANT_HOME"] = str(db.parent / "home")
    for i in range(n):
        message = f"w{w} t{i}: where is my order?"
        cid = f"conc-{i % args.conversations}"
        cmd = [sys.executable, "-m", "assistant", "ask", message, "--conversation", cid]
        cmd += ["--models", str(args.models), "--db", str(db), "--json"]
        run = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=args.src)
        printed = bool(run.stdout.strip()) and run.stdout.strip().startswith("{")
        error = "" if run.returncode == 0 else run.stderr.strip().splitlines()[-1:]
        with lock:
            results.append(
                {"message": message, "rc": run.returncode, "printed": printed, "error": error}
            )


def check(db: Path) -> dict:
    conn = sqlite3.connect(db)
    integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    rows = conn.execute(
        "SELECT conversation_id, seq, role, text FROM turns ORDER BY conversation_id, seq"
    ).fetchall()
    conn.close()
    by_conversation: dict[str, list[tuple[int, str, str]]] = {}
    for cid, seq, role, text in rows:
        by_conversation.setdefault(cid, []).append((seq, role, text))
    seq_ok = all(
        [seq for seq, _, _ in turns] == list(range(1, len(turns) + 1))
        for turns in by_conversation.values()
    )
    pairs_ok = all(
        [role for _, role, _ in turns] == ["customer", "assistant"] * (len(turns) // 2)
        for turns in by_conversation.values()
    )
    customer = [text for _, _, role, text in rows if role == "customer"]
    return {
        "turns_in_log": len(rows),
        "customer_texts": customer,
        "seq_ok": seq_ok,
        "pairs_ok": pairs_ok,
        "integrity": integrity,
        "conversations": len(by_conversation),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=Path("/tmp/tiny/models"))
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--turns", type=int, default=100, help="in all, split over the processes")
    ap.add_argument("--conversations", type=int, default=5, help="conversation ids they share")
    ap.add_argument("--src", type=Path, default=ROOT, help="checkout whose code the commands run")
    args = ap.parse_args()
    args.src, args.models = args.src.resolve(), args.models.resolve()  # children run in src
    db = Path(tempfile.mkdtemp(prefix="concurrency-")) / "conversations.db"
    results: list[dict] = []
    lock = threading.Lock()
    t0 = time.perf_counter()
    per_proc = args.turns // args.procs
    threads = [
        threading.Thread(target=worker, args=(args, db, w, per_proc, results, lock))
        for w in range(args.procs)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    found = check(db)
    texts = found.pop("customer_texts")
    sent = [r["message"] for r in results]
    print(
        json.dumps(
            {
                "procs": args.procs,
                "turns": len(results),
                "exit_ok": sum(r["rc"] == 0 for r in results),
                "printed": sum(r["printed"] for r in results),
                "stored": sum(texts.count(m) == 1 for m in sent),
                "duplicates": sum(texts.count(m) > 1 for m in sent),
                "printed_not_stored": sum(
                    r["printed"] and r["message"] not in texts for r in results
                ),
                **found,
                "seconds": round(seconds, 1),
                "errors": sorted({e for r in results for e in r["error"]})[:5],
                "db": str(db),
            }
        )
    )


if __name__ == "__main__":
    main()
