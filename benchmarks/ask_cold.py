"""A cold `assistant ask`: one message in a fresh process, as a script calling it in a loop.

Each trial spawns `assistant ask MESSAGE` (new interpreter, imports, models and KB loaded,
one turn answered and logged, exit) and takes its wall time from spawn to exit and its peak
resident memory (the child's own ru_maxrss). Messages rotate through a few demo questions;
each trial starts a new conversation in a scratch log. Prints the machine, then one JSON
object:

    {"n", "wall_median_s", "wall_max_s", "rss_median_mb", "rss_max_mb", "backend", "walls_s"}

    assistant demo --no-chat                       # once, to prepare the demo
    python benchmarks/ask_cold.py --n 5
    ASSISTANT_BACKEND=torch python benchmarks/ask_cold.py --n 5    # the torch runtime
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402

MESSAGES = [
    "where is my order?",
    "my camera keeps going offline",
    "how long does a refund take",
    "I was charged twice this month",
]


def trial(message: str, db: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `assistant ask`."""
    code = "import sys; from assistant.cli import main; sys.argv[0] = 'assistant'; main()"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "ask", message, "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"assistant ask failed:\n{proc.stderr.read()}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5, help="trials (the first also warms the disk)")
    args = ap.parse_args()
    print(json.dumps(machine()), file=sys.stderr)
    db = Path(tempfile.mkdtemp()) / "ask.db"
    runs = [trial(MESSAGES[i % len(MESSAGES)], db) for i in range(args.n)]
    walls, rss = [w for w, _ in runs], [r for _, r in runs]
    print(
        json.dumps(
            {
                "n": len(runs),
                "wall_median_s": round(statistics.median(walls), 2),
                "wall_max_s": round(max(walls), 2),
                "rss_median_mb": round(statistics.median(rss), 1),
                "rss_max_mb": round(max(rss), 1),
                "backend": os.environ.get("ASSISTANT_BACKEND", "auto"),
                "walls_s": [round(w, 2) for w in walls],
                "machine": machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
