"""One encoder, several backends: per-message latency, agreement and import cost.

Encodes short customer messages (the demo's held-out dialogues) one at a time, on one
thread, with the same weights through each backend, interleaved so all see the same
machine load:

    torch-fp32   transformers + torch, float32 (the runtime's path on a CPU without bf16)
    torch-bf16   the same with bfloat16 weights (the runtime's path on a CPU with bf16)
    onnx-fp32    ONNX Runtime on `onnx/model.onnx` + the Rust tokenizers (kb.onnx_backend)

Also the cosine of each backend's embeddings to torch-fp32, and what importing each stack
costs in a fresh interpreter (median wall time and resident memory of `--import-runs`).
Prints the CPU it ran on and one JSON object.

With `--passages N`, instead: N generated help-centre passages (as in kb_speed.py, ~110
tokens each) embedded in batches of 32 on one thread, passages/s per backend over
`--rounds` rounds taken in turn (median), the workload of a knowledge-base build, where
torch-bf16 runs as the build does (`chunked_attention`).

    python benchmarks/encoder_backends.py                    # bundled MiniLM, 400 messages
    python benchmarks/encoder_backends.py --model DIR --n 1000 --threads 2
    python benchmarks/encoder_backends.py --passages 256 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from importlib.resources import files
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402

IMPORTS = {
    "torch+transformers": "import torch, transformers\n"
    "from transformers import AutoModel, AutoTokenizer",
    "onnxruntime+tokenizers": "import onnxruntime, tokenizers",
}


def import_cost(code: str, runs: int) -> dict:
    """Median seconds and MB of RSS that `code` adds to a fresh interpreter."""
    probe = (
        "import time, resource\n"
        "def rss():\n"
        "    for l in open('/proc/self/status'):\n"
        "        if l.startswith('VmRSS:'): return int(l.split()[1]) / 1024\n"
        "r0 = rss(); t0 = time.perf_counter()\n"
        f"{code}\n"
        "print(time.perf_counter() - t0, rss() - r0)\n"
    )
    seconds, mb = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        ).stdout.split()
        seconds.append(float(out[0]))
        mb.append(float(out[1]))
    return {"s": round(statistics.median(seconds), 3), "mb": round(statistics.median(mb), 1)}


def messages(n: int) -> list[str]:
    data = files("assistant") / "demo_data" / "dialogues_test.jsonl"
    out = []
    for line in data.read_text().splitlines():
        for turn in json.loads(line)["turns"]:
            if turn["role"] == "customer":
                out.append(turn["text"])
    return (out * (n // max(len(out), 1) + 1))[:n]


def percentiles(ms: list[float]) -> dict:
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
    }


def batch_throughput(model: Path, args) -> dict:
    """Passages/s per backend on batches of 32, one thread, rounds in turn (median)."""
    import torch
    from kb_embedding import passages

    from kb.encoder import Encoder
    from kb.onnx_backend import OnnxEncoder

    torch.set_num_threads(1)
    backends = {
        "torch-fp32": Encoder.load(model, precision="fp32"),
        "torch-bf16": Encoder.load(model, precision="bf16", chunked_attention=True),
        "onnx-fp32": OnnxEncoder.load(model, threads=1),
    }
    backends = {k: v for k, v in backends.items() if k not in args.skip}
    texts = passages(args.passages)
    rates: dict[str, list[float]] = {name: [] for name in backends}
    embeddings = {}
    for _ in range(args.rounds):
        for name, encoder in backends.items():
            t0 = time.perf_counter()
            embeddings[name] = encoder.encode(texts, batch_size=32)
            rates[name].append(len(texts) / (time.perf_counter() - t0))
    ref = embeddings.get("torch-fp32", next(iter(embeddings.values())))
    result = {"machine": machine(), "model": str(model), "passages": len(texts)}
    for name, values in rates.items():
        cosine = float(np.min(np.sum(embeddings[name] * ref, axis=1)))
        result[name] = {
            "passages_per_s": round(statistics.median(values), 1),
            "rounds": [round(v, 1) for v in values],
            "min_cosine_to_torch_fp32": cosine,
        }
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="model dir (default: bundled)")
    ap.add_argument("--n", type=int, default=400, help="messages to encode per backend")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--import-runs", type=int, default=5)
    ap.add_argument("--skip", nargs="*", default=[], help="backends to leave out")
    ap.add_argument("--passages", type=int, default=0, help="batch throughput on N passages")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print(json.dumps(machine()), file=sys.stderr)

    from kb.onnx_backend import OnnxEncoder, export_onnx, export_status
    from kb.paths import bundled_model_path

    model = args.model or bundled_model_path()
    if export_status(model) != "current":
        export_onnx(model)
    if args.passages:
        print(json.dumps(batch_throughput(model, args), indent=2))
        return
    imports = {name: import_cost(code, args.import_runs) for name, code in IMPORTS.items()}

    import torch

    from kb.encoder import Encoder

    torch.set_num_threads(args.threads)
    backends = {
        "torch-fp32": Encoder.load(model, precision="fp32").encode,
        "torch-bf16": Encoder.load(model, precision="bf16").encode,
        "onnx-fp32": OnnxEncoder.load(model, threads=args.threads).encode,
    }
    backends = {k: v for k, v in backends.items() if k not in args.skip}
    texts = messages(args.n)
    for encode in backends.values():  # first calls allocate
        for text in texts[:5]:
            encode([text])
    times: dict[str, list[float]] = {name: [] for name in backends}
    embeddings: dict[str, list[np.ndarray]] = {name: [] for name in backends}
    for text in texts:
        for name, encode in backends.items():
            t0 = time.perf_counter()
            emb = encode([text])
            times[name].append((time.perf_counter() - t0) * 1000)
            embeddings[name].append(emb[0])
    ref = np.stack(embeddings.get("torch-fp32", next(iter(embeddings.values()))))
    result = {"machine": machine(), "model": str(model), "n": len(texts)}
    result["threads"] = args.threads
    for name in backends:
        cosine = float(np.min(np.sum(np.stack(embeddings[name]) * ref, axis=1)))
        result[name] = {**percentiles(times[name]), "min_cosine_to_torch_fp32": cosine}
    result["import"] = imports
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
