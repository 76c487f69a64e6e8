"""How long the chat takes to open once the demo is prepared (`assistant demo` on later runs).

Each trial starts a fresh Python process that does what `assistant demo` does after the first
run (import the CLI, load the intent model, ranker, response bank and KB, open the log, start
the Textual app) and prints a line once the app has mounted its screen and is ready for
typing. The time is taken in this parent process, from spawning the child to reading that
line, so interpreter start-up and imports count. Textual runs headless (Pilot) here; in a
real terminal the first paint follows within a frame. Prints one JSON object:

    {"n", "median_s", "max_s", "times_s"}

    assistant demo --no-chat                # once, to prepare the demo
    python benchmarks/startup.py --n 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CHILD = r"""
import asyncio, sys
from assistant.cli.demo import demo_cmd  # the command's own imports
from assistant.paths import user_home
from training.demo import demo_paths, is_prepared

home = user_home()
if not is_prepared(home):
    sys.exit(f"the demo is not prepared in {home}: run `assistant demo --no-chat` first")
paths = demo_paths(home)
from assistant.service import open_service
from assistant.tui.app import ChatApp

svc = open_service(paths["intent"].parent, paths["kb"], paths["db"])

async def main():
    app = ChatApp(svc)
    async with app.run_test() as pilot:
        await pilot.pause()
        print("ready", flush=True)

asyncio.run(main())
svc.close()
"""


def trial() -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    for line in proc.stdout:
        if line.strip() == "ready":
            elapsed = time.perf_counter() - t0
            break
    else:
        proc.wait()
        raise SystemExit(f"the chat did not start:\n{proc.stderr.read()}")
    proc.wait()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5, help="trials (the first also warms the disk)")
    args = ap.parse_args()
    times = [trial() for _ in range(args.n)]
    print(
        json.dumps(
            {
                "n": len(times),
                "median_s": round(statistics.median(times), 2),
                "max_s": round(max(times), 2),
                "times_s": [round(t, 2) for t in times],
            }
        )
    )


if __name__ == "__main__":
    main()
