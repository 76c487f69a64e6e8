"""Replaying the demo's held-out dialogues: the policy with the config defaults vs calibrated.

Loads the demo models and KB once, then:

  1. before   replays `dialogues_test.jsonl` through the real service (a temporary log) with
              the config defaults (`training.replay.evaluate_dialogues`);
  2. calibrate on `dialogues_val.jsonl` (in memory: nothing is written into the models);
  3. after    replays the same dialogues with the calibrated thresholds.

Prints a side-by-side table of coverage per source, answer precision, action claims,
ungrounded specifics, chat-unfit replies, clarify, fallback, handoff and loop rates, the
per-turn latency of the replays (p50/p95 of the engine's `latency_ms`), and one JSON object
with everything on the last line.

    ASSISTANT_HOME=/tmp/demo-home python benchmarks/dialogues.py
    python benchmarks/dialogues.py --models DIR --kb DIR --data TEST.jsonl --val VAL.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from importlib.resources import files
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402

DEMO = files("assistant") / "demo_data"
DEMO_TARGET = 0.7  # assistant.demo.prepare.DEMO_TARGET (imported lazily there: training)

ROWS = [
    ("answered (ranker + kb)", lambda m: m["answered"]),
    ("  ranker", lambda m: m["coverage"]["ranker"]),
    ("  kb", lambda m: m["coverage"]["kb"]),
    ("clarify", lambda m: m["coverage"]["clarify"]),
    ("fallback", lambda m: m["coverage"]["fallback"]),
    ("oos", lambda m: m["coverage"]["oos"]),
    ("handoff (turns)", lambda m: m["coverage"]["handoff"]),
    ("muted after handoff", lambda m: m["coverage"]["muted"]),
    ("answer precision", lambda m: m["precision"]),
    ("  ranker precision", lambda m: m["precision_by_source"]["ranker"]),
    ("  kb precision", lambda m: m["precision_by_source"]["kb"]),
    ("action claims / answers", lambda m: m["claims"]),
    ("ungrounded / answers", lambda m: m["ungrounded"]),
    ("chat-unfit / answers", lambda m: m["unfit"]),
    ("handoff / dialogues", lambda m: m["handoff"]),
    ("loops / dialogues", lambda m: m["loop"]),
]


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:6.1f}%"


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--models", type=Path, default=None, help="default: $ASSISTANT_HOME/models")
    ap.add_argument("--kb", type=Path, default=None, help="default: $ASSISTANT_HOME/kb")
    ap.add_argument("--data", type=Path, default=Path(str(DEMO / "dialogues_test.jsonl")))
    ap.add_argument("--val", type=Path, default=Path(str(DEMO / "dialogues_val.jsonl")))
    ap.add_argument(
        "--target",
        type=float,
        default=DEMO_TARGET,
        help=f"answer precision to calibrate for (default: the demo's, {DEMO_TARGET})",
    )
    args = ap.parse_args()

    from assistant.engine import DialogueEngine
    from assistant.paths import user_home
    from training.calibrate import CalibrateConfig, calibrate, format_report
    from training.replay import ReplyJudge, evaluate_dialogues

    home = user_home()
    models = args.models or home / "models"
    kb = args.kb or (home / "kb" if (home / "kb" / "manifest.json").is_file() else None)
    info = machine()
    print(json.dumps(info), file=sys.stderr)
    t0 = time.time()
    engine = DialogueEngine.load(models, kb, calibration=False)
    judge = ReplyJudge()
    defaults = engine.config
    load_s = time.time() - t0

    t = time.time()
    before, turns_before = evaluate_dialogues(None, args.data, engine=engine, judge=judge)
    before_s = time.time() - t

    t = time.time()
    cal = calibrate(
        CalibrateConfig(
            models=str(models), data=str(args.val), kb=str(kb) if kb else None, target=args.target
        ),
        log=lambda m: print(m, file=sys.stderr),
        save=False,
        engine=engine,
        judge=judge,
    )
    calibrate_s = time.time() - t

    engine.config = defaults.calibrated(cal["thresholds"])
    engine.calibration = cal
    t = time.time()
    after, turns_after = evaluate_dialogues(None, args.data, engine=engine, judge=judge)
    after_s = time.time() - t

    print(format_report(cal))
    print()
    print(f"held-out replay: {before['dialogues']} dialogues, {before['turns']} customer turns")
    print(f"{'':28}{'defaults':>10}{'calibrated':>12}")
    for name, get in ROWS:
        print(f"{name:28}{_pct(get(before)):>10}{_pct(get(after)):>12}")
    lat = {}
    for name, turns in (("before", turns_before), ("after", turns_after)):
        ms = np.array([r.latency_ms for r in turns if r.source != "muted"])
        lat[name] = {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}
    print(
        f"{'per-turn latency p50/p95':28}"
        f"{lat['before']['p50_ms']:>5.1f}/{lat['before']['p95_ms']:<5.1f}"
        f"{lat['after']['p50_ms']:>6.1f}/{lat['after']['p95_ms']:.1f} ms"
    )
    print(
        f"time: load {load_s:.0f}s, replay {before_s:.0f}s + {after_s:.0f}s, "
        f"calibrate {calibrate_s:.0f}s"
    )
    print(
        json.dumps(
            {
                "before": before,
                "after": after,
                "calibration": {k: cal[k] for k in ("thresholds", "target", "reached", "table")},
                "latency": lat,
                "seconds": {
                    "load": load_s,
                    "replay_before": before_s,
                    "calibrate": calibrate_s,
                    "replay_after": after_s,
                },
                "machine": info,
            }
        )
    )


if __name__ == "__main__":
    main()
