"""Knowledge-base speed on a generated 10k-passage collection (our own synthetic text).

1. Generate N/10 Markdown articles of 10 sections each (one passage per section) in a temp dir.
2. Build the index with the default settings (flat below 20k passages): build throughput.
   Also the build's CPU time: passages per CPU-second is what contention on a shared machine
   distorts least (an idle 2-core machine can at best double it with 2 workers).
3. In a fresh process: import + load time, resident memory after load, search latency
   (p50/p95 over the queries, query encoding included) for hybrid and dense-only scoring.
4. Rebuild the same folder with --index-type hnsw (no re-embedding): HNSW recall@10 against
   exact search, measured by the build, and HNSW search latency.

Prints one JSON object. Takes a few minutes on 2 cores.

    python benchmarks/kb_speed.py
    python benchmarks/kb_speed.py --passages 2000 --queries 200
    python benchmarks/kb_speed.py --build-only      # build timings only (repeat in new processes)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PRODUCTS = ["thermostat", "camera", "doorbell", "smart plug", "hub", "leak sensor",
            "door lock", "light bulb", "speaker", "motion sensor", "smoke alarm", "router",
            "kettle", "vacuum", "air purifier", "garage opener", "blind motor", "water valve"]
TOPICS = ["refund", "warranty", "delivery", "invoice", "password", "subscription", "battery",
          "firmware update", "installation", "return", "payment", "account", "notification",
          "schedule", "Wi-Fi connection", "factory reset", "status light", "voice assistant",
          "video history", "gift card", "promo code", "trade-in", "repair", "recycling"]
VERBS = ["set up", "reset", "update", "return", "replace", "pair", "charge", "cancel",
         "move", "clean", "register", "share", "mount", "calibrate", "unlock", "pause"]
PLACES = ["in the app", "on the web dashboard", "at the device", "in your account settings",
          "on the order page", "from the home screen", "with the help of support"]
TIMES = ["within 2 business days", "in about five minutes", "after the next restart",
         "once a month", "before the end of the billing period", "within 30 days",
         "the same day", "overnight", "after 24 hours", "when the light turns green"]
SENTENCES = [
    "To {verb} your {product}, open the {topic} page {place} and follow the steps.",
    "Most {topic} requests for the {product} are handled {time}.",
    "If the {product} does not respond, {verb} it again and check the {topic} settings.",
    "You can {verb} the {product} {place}; the change applies {time}.",
    "The {topic} of a {product} depends on the model and on where you bought it.",
    "Keep your order number ready when you ask about a {topic} for the {product}.",
    "Customers often ask whether they can {verb} the {product} without losing the {topic}.",
    "A {product} bought from an authorised retailer has the same {topic} terms.",
    "We send an email about the {topic} {time}, so check your spam folder as well.",
    "When the {product} shows a red light, the {topic} needs attention {place}.",
    "Our team can {verb} the {product} remotely {time} if you give permission.",
    "Fees for the {topic} are listed {place} and never change after you order.",
]
SECTION_HEADS = ["Before you start", "How to {verb} the {product}", "About the {topic}",
                 "When it does not work", "What it costs", "How long it takes",
                 "Getting help", "Frequently asked questions", "Limits and exceptions",
                 "Tips for your {product}"]
QUESTIONS = [
    "how do I {verb} my {product}?",
    "how long does the {topic} take for a {product}",
    "my {product} shows a red light, what about the {topic}?",
    "can I {verb} the {product} {place}",
    "where do I find the {topic} for my {product}",
    "is there a fee for the {topic} on a {product}?",
    "{product} {topic} not working",
]


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        verb=rng.choice(VERBS), product=rng.choice(PRODUCTS), topic=rng.choice(TOPICS),
        place=rng.choice(PLACES), time=rng.choice(TIMES),
    )


def _paragraph(rng: random.Random, min_words: int = 60, max_words: int = 90) -> str:
    target = rng.randint(min_words, max_words)
    sentences: list[str] = []
    while sum(len(s.split()) for s in sentences) < target:
        sentences.append(_fill(rng.choice(SENTENCES), rng))
    text = " ".join(sentences).split()[:max_words]
    return " ".join(text).rstrip(".,;") + "."


def generate_kb(folder: Path, passages: int, seed: int = 0) -> int:
    """Write passages/10 articles of 10 sections (one paragraph each); return the count."""
    rng = random.Random(seed)
    articles = max(1, passages // 10)
    for n in range(articles):
        topic = rng.choice(TOPICS)
        product = rng.choice(PRODUCTS)
        path = folder / topic.replace(" ", "-").lower() / f"article-{n:05d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        parts = [f"# {topic.capitalize()} for your {product} ({n})"]
        for head in SECTION_HEADS:
            parts.append(f"## {_fill(head, rng)}")
            parts.append(_paragraph(rng))
        path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return articles * len(SECTION_HEADS)


def make_queries(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [_fill(rng.choice(QUESTIONS), rng) for _ in range(count)]


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds() -> float:
    """User + system CPU time of this process and of its finished child processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def search_worker(index_dir: str, queries: int) -> dict:
    """Run in a fresh process: load time, RSS after load, latency of hybrid and dense."""
    start = time.perf_counter()
    from kb import KnowledgeBase

    kb = KnowledgeBase.load(index_dir)
    load_seconds = time.perf_counter() - start
    rss_after_load = _rss_mib()
    texts = make_queries(queries)
    t0 = time.perf_counter()
    kb.search(texts[0], k=5)  # loads the query encoder (deferred until a text query)
    first_query = time.perf_counter() - t0
    result = {
        "load_seconds": round(load_seconds, 2),
        "rss_mib_after_load": round(rss_after_load),
        "first_query_seconds": round(first_query, 2),
        "rss_mib_after_first_query": round(_rss_mib()),
    }
    for mode, weight in (("hybrid", kb.keyword_weight), ("dense", 0.0)):
        kb.keyword_weight = weight
        for text in texts[:10]:  # warm-up
            kb.search(text, k=5)
        latencies = []
        for text in texts:
            t0 = time.perf_counter()
            kb.search(text, k=5)
            latencies.append((time.perf_counter() - t0) * 1000)
        result[mode] = {
            "keyword_weight": weight,
            "queries": len(texts),
            "p50_ms": round(_percentile(latencies, 50), 2),
            "p95_ms": round(_percentile(latencies, 95), 2),
            "max_ms": round(max(latencies), 2),
        }
    # encoding alone, to split the latency
    encode = []
    for text in texts:
        t0 = time.perf_counter()
        kb.encode([text])
        encode.append((time.perf_counter() - t0) * 1000)
    result["encode_only"] = {"p50_ms": round(_percentile(encode, 50), 2),
                             "p95_ms": round(_percentile(encode, 95), 2)}
    result["rss_mib_after_queries"] = round(_rss_mib())
    return result


def _run_worker(index_dir: Path, queries: int) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--search-worker", str(index_dir), "--queries", str(queries)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--precision", default="auto", help="build precision")
    parser.add_argument("--batch-size", type=int, default=None, help="build batch size")
    parser.add_argument("--workers", type=int, default=None,
                        help="build embedding processes (default: one per core)")
    parser.add_argument("--build-only", action="store_true",
                        help="stop after the first build (to repeat build timings quickly)")
    parser.add_argument("--search-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.search_worker:
        print(json.dumps(search_worker(args.search_worker, args.queries)))
        return

    from kb import BuildConfig, build_index

    result: dict = {
        "benchmark": "kb_speed",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory() as tmp:
        docs, out = Path(tmp) / "docs", Path(tmp) / "index"
        generated = generate_kb(docs, args.passages)
        options = {"precision": args.precision, "show_progress": False,
                   "workers": args.workers}
        if args.batch_size:
            options["batch_size"] = args.batch_size
        config = BuildConfig(**options)
        cpu_start = _cpu_seconds()
        report = build_index(docs, out, config)
        # CPU time of this process (all its threads) and of the embedding workers it forked:
        # a figure that other processes on a shared machine disturb far less than wall time
        build_cpu_seconds = _cpu_seconds() - cpu_start
        manifest = json.loads((out / "manifest.json").read_text())
        result["build"] = {
            "passages": report.count,
            "passages_generated": generated,
            "articles": report.articles,
            "precision": manifest["embedding"]["precision"],
            "batch_size": config.batch_size,
            "workers": report.workers,
            "index_type": report.index_type,
            "embed_seconds": round(report.embed_seconds, 1),
            "total_seconds": round(report.seconds, 1),
            "embed_passages_per_second": round(report.passages_per_second, 1),
            "build_passages_per_second": round(report.count / report.seconds, 1),
            "build_cpu_seconds": round(build_cpu_seconds, 1),
            "passages_per_cpu_second": round(report.count / build_cpu_seconds, 1),
        }
        print(json.dumps(result["build"]), file=sys.stderr)
        if args.build_only:
            result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
            print(json.dumps(result, indent=2))
            return
        result["flat_search"] = _run_worker(out, args.queries)
        print(json.dumps(result["flat_search"]), file=sys.stderr)

        hnsw = build_index(docs, out, BuildConfig(**{**options, "index_type": "hnsw"}))
        hnsw_manifest = json.loads((out / "manifest.json").read_text())["index"]
        result["hnsw"] = {
            "re_embedded": hnsw.embedded,
            "build_seconds": round(hnsw.seconds, 1),
            "recall_at_10": round(hnsw.recall_at_10, 4),
            "recall_sample": hnsw_manifest["recall_sample"],
            "m": hnsw_manifest["hnsw_m"],
            "ef_construction": hnsw_manifest["ef_construction"],
            "ef_search": hnsw_manifest["ef_search"],
            "search": _run_worker(out, args.queries),
        }
        print(json.dumps(result["hnsw"]), file=sys.stderr)
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
