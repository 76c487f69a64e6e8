"""How long the chat takes to open once the demo is prepared (`assistant demo` on later runs).

Each trial starts a fresh Python process that does what `assistant demo` does after the first
run: import the CLI, check the paths and open the log, start loading the intent model, ranker,
response bank and KB in the background, and start the Textual app. The child prints "ui" once
the app has mounted its screen with the input focused (the chat is open: you can type), and
"models" the moment the models are loaded (the first reply can be computed), whichever comes
first; as in `assistant chat`, the models start loading before the UI is imported. Times are
taken in this parent process from spawning the child, so interpreter start-up and imports
count. Textual runs headless (Pilot) here; in a real terminal the first paint follows within a
frame.
Prints one JSON object:

    {"n", "open_median_s", "open_max_s", "models_median_s", "models_max_s", "open_s", "models_s",
     "rss_median_mb", "rss_max_mb", "heavy_imports", "machine"}

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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402

CHILD = r"""
import asyncio, sys
from assistant.cli.demo import demo_cmd  # the command's own imports
from assistant.paths import user_home
from assistant.demo.prepare import demo_paths, is_prepared

home = user_home()
if not is_prepared(home):
    sys.exit(f"the demo is not prepared in {home}: run `assistant demo --no-chat` first")
paths = demo_paths(home)
import threading
from assistant.service import open_service

# as `assistant chat` does: the models start loading, then the UI is imported and mounted
svc = open_service(paths["intent"].parent, paths["kb"], paths["db"], background=True)

def models_ready():  # the moment the models are loaded, whatever the UI is doing
    svc.wait_ready()
    print("models", flush=True)

watcher = threading.Thread(target=models_ready)
watcher.start()
from assistant.tui.app import ChatApp

async def main():
    app = ChatApp(svc)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "prompt"
        print("ui", flush=True)
        await asyncio.to_thread(watcher.join)
        heavy = [m for m in ("torch", "transformers") if m in sys.modules]
        print("heavy", *heavy, flush=True)
        status = open("/proc/self/status").read()
        rss = int(status.split("VmRSS:")[1].split()[0]) / 1024
        print("rss", round(rss, 1), flush=True)
        print("done", flush=True)

asyncio.run(main())
svc.close()
"""


def trial() -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    seen = {}
    for line in proc.stdout:
        word, *rest = line.split()
        seen[word] = time.perf_counter() - t0
        if word == "heavy":
            seen["heavy_imports"] = rest
        if word == "rss":
            seen["rss_mb"] = float(rest[0])
        if "done" in seen:
            break
    proc.wait()
    if "ui" not in seen or "models" not in seen:
        raise SystemExit(f"the chat did not start:\n{proc.stderr.read()}")
    return seen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5, help="trials (the first also warms the disk)")
    args = ap.parse_args()
    print(json.dumps(machine()), file=sys.stderr)
    trials = [trial() for _ in range(args.n)]
    opened = [t["ui"] for t in trials]
    loaded = [t["models"] for t in trials]
    print(
        json.dumps(
            {
                "n": len(trials),
                "open_median_s": round(statistics.median(opened), 2),
                "open_max_s": round(max(opened), 2),
                "models_median_s": round(statistics.median(loaded), 2),
                "models_max_s": round(max(loaded), 2),
                "open_s": [round(t, 2) for t in opened],
                "models_s": [round(t, 2) for t in loaded],
                # resident memory of the chat process once its models are loaded
                "rss_median_mb": round(statistics.median(t["rss_mb"] for t in trials), 1),
                "rss_max_mb": max(t["rss_mb"] for t in trials),
                # torch / transformers if the chat process imported them (it should not)
                "heavy_imports": sorted({m for t in trials for m in t["heavy_imports"]}),
                "machine": machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
