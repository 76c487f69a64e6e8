"""Side by side, in one process: ways of embedding the same passages for a KB build.

Each round encodes the same generated passages (as in kb_speed.py) once per variant, in
turn, so that a noisy shared machine affects every variant alike; medians over the rounds
and ratios to the build's default are printed as one JSON object.

Variants (all with bf16 weights and token-length batches):
- threads: this process, as many torch threads as cores
- workers: one forked single-threaded process per core, torch's fused attention
- workers+chunked: the build's default (workers, `kb.encoder.chunked_attention`)

`--busy` runs a busy-looping neighbour process during the measurement (one core taken).

    python benchmarks/kb_embedding.py
    python benchmarks/kb_embedding.py --busy
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from kb_speed import PRODUCTS, SECTION_HEADS, TOPICS, _fill, _paragraph  # noqa: E402


def passages(n: int, seed: int = 0) -> list[str]:
    """Texts shaped like the build's embedded passages: title, section, 60-90 words."""
    rng = random.Random(seed)
    return [
        f"{rng.choice(TOPICS).capitalize()} for your {rng.choice(PRODUCTS)} ({i})\n"
        f"{_fill(rng.choice(SECTION_HEADS), rng)}\n\n{_paragraph(rng)}"
        for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--busy", action="store_true", help="a busy neighbour on one core")
    args = parser.parse_args()

    import torch

    from kb.build import available_cores
    from kb.encoder import Encoder

    cores = available_cores()
    texts = passages(args.passages)
    default = Encoder.load(None, "bf16", chunked_attention=True)
    fused = Encoder.load(None, "bf16", chunked_attention=False)
    variants = {
        "threads": (fused, 1, cores),
        "workers": (fused, cores, 1),
        "workers+chunked": (default, cores, 1),
    }
    neighbour = None
    if args.busy:
        neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    rates: dict[str, list[float]] = {name: [] for name in variants}
    try:
        torch.set_num_threads(1)
        default.encode(texts[:64])  # warm-up
        for _ in range(args.rounds):
            for name, (encoder, processes, threads) in variants.items():
                torch.set_num_threads(threads)
                start = time.perf_counter()
                encoder.encode(texts, batch_size=32, processes=processes)
                rates[name].append(len(texts) / (time.perf_counter() - start))
    finally:
        if neighbour is not None:
            neighbour.kill()
    base = rates["workers+chunked"]
    result = {
        "benchmark": "kb_embedding",
        "python": platform.python_version(),
        "cores": cores,
        "passages": len(texts),
        "busy_neighbour": args.busy,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "passages_per_second": {k: [round(x, 1) for x in v] for k, v in rates.items()},
        "median_passages_per_second": {k: round(statistics.median(v), 1) for k, v in rates.items()},
        "median_ratio_default_to": {
            k: round(statistics.median([b / a for a, b in zip(v, base)]), 3)
            for k, v in rates.items()
            if k != "workers+chunked"
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
