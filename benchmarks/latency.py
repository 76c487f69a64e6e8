"""Per-turn latency of the assistant with logging on, against a bare MiniLM encode.

Replays the customer turns of held-out demo dialogues (in order, so context builds up)
through `AssistantService.respond` with a real SQLite log, and times a bare single-message
encode with the bundled MiniLM on the same messages, interleaved in the same run so both
see the same machine load. Prints one JSON object:

    {"n", "p50_ms", "p95_ms", "encode_p95_ms", "ratio_p95", "rss_mb", "backend", "machine"}

`rss_mb` is the process's resident memory after the run, less what loading the reference
encoder added (it is not part of a chat session, nor is the torch it imports); `backend` is
the inference backend the service's models ran on (ASSISTANT_BACKEND chooses), `machine` the
CPU (benchmarks/machine.py).

    python benchmarks/latency.py                      # models/KB from `assistant demo --no-chat`
    python benchmarks/latency.py --models DIR --kb DIR --n 500
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=None)
    ap.add_argument("--kb", type=Path, default=None)
    ap.add_argument("--n", type=int, default=600, help="messages to replay (at least 500)")
    ap.add_argument(
        "--data",
        type=Path,
        default=Path(str(files("assistant") / "demo_data" / "dialogues_test.jsonl")),
    )
    args = ap.parse_args()
    print(json.dumps(machine()), file=sys.stderr)

    from assistant.service import open_service
    from kb.encoder import Encoder

    conversations = []
    for line in args.data.read_text().splitlines():
        d = json.loads(line)
        conversations.append([t["text"] for t in d["turns"] if t["role"] == "customer"])
    db = Path(tempfile.mkdtemp()) / "latency.db"
    svc = open_service(args.models, args.kb, db)
    backend = getattr(svc.engine.ranker.encoder, "backend", "torch")
    before = rss_mb()
    bare = Encoder.load(None, precision="fp32")
    bare.encode(["warm up"])
    bare_mb = rss_mb() - before  # the reference encoder is not part of a chat session
    # Warm up both paths (first calls allocate).
    warm = svc.new_conversation()
    for msg in ("hello", "where is my order", "thanks"):
        svc.respond(warm, msg)
        bare.encode([msg])
    turn_ms, enc_ms = [], []
    for conv in conversations:
        cid = svc.new_conversation()
        for msg in conv:
            if len(turn_ms) >= args.n:
                break
            t0 = time.perf_counter()
            bare.encode([msg])
            enc_ms.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            svc.respond(cid, msg)
            turn_ms.append((time.perf_counter() - t0) * 1000)
        if len(turn_ms) >= args.n:
            break
        if svc.status(cid) == "human":
            svc.hand_back(cid)
    rss = rss_mb() - bare_mb
    svc.close()
    p95, e95 = float(np.percentile(turn_ms, 95)), float(np.percentile(enc_ms, 95))
    print(
        json.dumps(
            {
                "n": len(turn_ms),
                "p50_ms": round(float(np.percentile(turn_ms, 50)), 2),
                "p95_ms": round(p95, 2),
                "encode_p95_ms": round(e95, 2),
                "ratio_p95": round(p95 / e95, 2),
                "rss_mb": round(rss, 1),
                "backend": backend,
                "machine": machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
