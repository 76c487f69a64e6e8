"""Retrieval quality on the demo knowledge base: dense-only against hybrid (dense + BM25).

Builds the demo KB (assistant/demo_data/kb) into a temporary folder with each requested
encoding precision and evaluates every keyword weight on assistant/demo_data/kb_questions.jsonl
(article-level Recall@1, Recall@5, MRR). Prints one JSON object.

    python benchmarks/kb_quality.py
    python benchmarks/kb_quality.py --precision fp32,bf16 --weights 0,0.3 --max-words 100
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb import BuildConfig, KnowledgeBase, SearchConfig, build_index, evaluate  # noqa: E402

DEMO_DOCS = ROOT / "assistant" / "demo_data" / "kb"
DEMO_QUESTIONS = ROOT / "assistant" / "demo_data" / "kb_questions.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=DEMO_DOCS)
    parser.add_argument("--questions", type=Path, default=DEMO_QUESTIONS)
    parser.add_argument(
        "--precision", default="fp32,bf16", help="comma-separated build precisions to compare"
    )
    parser.add_argument(
        "--weights",
        default="0,0.1,0.2,0.3,0.5",
        help="comma-separated keyword weights (0 = dense only)",
    )
    parser.add_argument("--max-words", type=int, default=BuildConfig().max_words)
    parser.add_argument(
        "--overlap-words", type=int, default=None, help="default: a fifth of --max-words"
    )
    parser.add_argument("-k", type=int, default=50, help="passages retrieved per question")
    args = parser.parse_args()

    weights = [float(w) for w in args.weights.split(",")]
    if args.overlap_words is None:
        args.overlap_words = args.max_words // 5
    result: dict = {
        "benchmark": "kb_quality",
        "docs": str(args.docs.relative_to(ROOT) if args.docs.is_relative_to(ROOT) else args.docs),
        "questions": str(args.questions.name),
        "max_words": args.max_words,
        "overlap_words": args.overlap_words,
        "k": args.k,
        "python": platform.python_version(),
        "runs": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for precision in args.precision.split(","):
            out = Path(tmp) / precision
            config = BuildConfig(
                precision=precision,
                max_words=args.max_words,
                overlap_words=args.overlap_words,
                show_progress=False,
            )
            start = time.perf_counter()
            report = build_index(args.docs, out, config)
            build_seconds = time.perf_counter() - start
            for weight in weights:
                kb = KnowledgeBase.load(out, config=SearchConfig(keyword_weight=weight))
                metrics = evaluate(kb, args.questions, k=args.k)
                kb.close()
                result["runs"].append(
                    {
                        "precision": precision,
                        "keyword_weight": weight,
                        "mode": "dense" if weight == 0 else "hybrid",
                        "passages": report.count,
                        "build_seconds": round(build_seconds, 1),
                        **{
                            key: round(value, 4) if isinstance(value, float) else value
                            for key, value in metrics.items()
                        },
                    }
                )
                print(json.dumps(result["runs"][-1]), file=sys.stderr)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
