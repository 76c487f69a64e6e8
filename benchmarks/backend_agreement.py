"""Same answers from both backends: the demo replay and the KB questions, torch vs ONNX.

Loads the dialogue engine twice from the same model and KB directories, once with
ASSISTANT_BACKEND=torch ASSISTANT_PRECISION=fp32 (the reference) and once with
ASSISTANT_BACKEND=onnx, replays the customer turns of the held-out demo dialogues through
both (history built from the reference's replies, so both see the same conversation), and
searches the KB with every question of `kb_questions.jsonl` through both query encoders.
Prints the CPU and one JSON object:

    {"turns", "min_cosine_intent", "min_cosine_context", "intent_same", "source_same",
     "reply_same", "candidates_same", "citations_same", "kb_questions", "kb_results_same",
     "max_score_diff", "differences": [...]}

A turn counts as the same when the field is identical; `differences` lists the first few
that are not, with both values.

    python benchmarks/backend_agreement.py                 # the demo (`assistant demo --no-chat`)
    python benchmarks/backend_agreement.py --models DIR --kb DIR --n 500
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib.resources import files
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402


def load_engine(backend: str, models: Path, kb: Path | None):
    """The dialogue engine with every encoder on `backend` (fp32 for torch)."""
    os.environ["ASSISTANT_BACKEND"] = backend
    os.environ["ASSISTANT_PRECISION"] = "fp32"
    from assistant.engine import DialogueEngine

    engine = DialogueEngine.load(models, kb)
    for encoder in (engine.intent.encoder, engine.ranker.encoder):
        assert getattr(encoder, "backend", "torch") == backend, (backend, type(encoder))
    return engine


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=None)
    ap.add_argument("--kb", type=Path, default=None)
    ap.add_argument("--n", type=int, default=600, help="customer turns to replay")
    ap.add_argument(
        "--data",
        type=Path,
        default=Path(str(files("assistant") / "demo_data" / "dialogues_test.jsonl")),
    )
    ap.add_argument(
        "--questions",
        type=Path,
        default=Path(str(files("assistant") / "demo_data" / "kb_questions.jsonl")),
    )
    args = ap.parse_args()
    print(json.dumps(machine()), file=sys.stderr)
    from assistant.paths import user_home

    home = user_home()
    models = args.models or home / "models"
    kb = args.kb or (home / "kb" if (home / "kb" / "manifest.json").is_file() else None)
    ref = load_engine("torch", models, kb)
    ours = load_engine("onnx", models, kb)

    same = {k: 0 for k in ("intent", "source", "reply", "candidates", "citations")}
    cos_intent, cos_context, score_diff, differences, turns = [], [], 0.0, [], 0
    for line in args.data.read_text().splitlines():
        if turns >= args.n:
            break
        history: list[tuple[str, str]] = []
        for turn in json.loads(line)["turns"]:
            if turn["role"] != "customer":
                continue
            if turns >= args.n:
                break
            message = turn["text"]
            a = ref.decide(history, message)
            b = ours.decide(history, message)
            turns += 1
            context = ref.ranker.context_text([*history, ("customer", message)])
            ea = ref.ranker.encoder.encode([context], max_length=ref.ranker.max_context_length)
            eb = ours.ranker.encoder.encode([context], max_length=ours.ranker.max_context_length)
            cos_context.append(float(ea[0] @ eb[0]))
            ia, ib = ref.intent.encoder.encode([message]), ours.intent.encoder.encode([message])
            cos_intent.append(float(ia[0] @ ib[0]))
            fields = {
                "intent": (a.intent, b.intent),
                "source": (a.source, b.source),
                "reply": (a.reply, b.reply),
                "candidates": ([c.text for c in a.candidates], [c.text for c in b.candidates]),
                "citations": (
                    [(c.article_id, c.section) for c in a.citations],
                    [(c.article_id, c.section) for c in b.citations],
                ),
            }
            for name, (x, y) in fields.items():
                if x == y:
                    same[name] += 1
                elif len(differences) < 10:
                    differences.append({"turn": turns, "field": name, "torch": x, "onnx": y})
            for ca, cb in zip(a.candidates, b.candidates):
                score_diff = max(score_diff, abs(ca.score - cb.score))
            score_diff = max(score_diff, abs(a.confidence - b.confidence))
            history += [("customer", message), ("agent", a.reply)]

    kb_same = kb_n = 0
    if ref.kb is not None:
        for line in args.questions.read_text().splitlines():
            question = json.loads(line)["question"]
            pa, pb = ref.kb.search(question, k=5), ours.kb.search(question, k=5)
            kb_n += 1
            ids_a = [(p.article_id, p.section) for p in pa]
            ids_b = [(p.article_id, p.section) for p in pb]
            if ids_a == ids_b:
                kb_same += 1
            elif len(differences) < 20:
                differences.append({"kb_question": question, "torch": ids_a, "onnx": ids_b})
            for x, y in zip(pa, pb):
                score_diff = max(score_diff, abs(x.score - y.score))
    result = {
        "machine": machine(),
        "turns": turns,
        "min_cosine_intent": round(min(cos_intent), 7),
        "min_cosine_context": round(min(cos_context), 7),
        **{f"{k}_same": v for k, v in same.items()},
        "kb_questions": kb_n,
        "kb_results_same": kb_same,
        "max_score_diff": float(f"{score_diff:.2e}"),
        "differences": differences,
    }
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
