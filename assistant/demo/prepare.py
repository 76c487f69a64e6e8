"""Preparing the demo: train the demo intent model and ranker, build the demo KB index.

The models are trained on the shipped dialogues (`assistant/demo_data/dialogues.jsonl`, written by
`assistant.demo.dialogues`), the index is built from the articles in `assistant/demo_data/kb/`,
and the policy's thresholds are calibrated on the validation dialogues
(`assistant/demo_data/dialogues_val.jsonl`; `dialogues_test.jsonl` stays held out for
`assistant eval dialogues`). Everything lands in the user data directory
(`assistant.paths.user_home()`):

    <home>/models/intent    <home>/models/ranker    <home>/models/calibration
    <home>/kb               <home>/conversations.db

Steps already done are skipped, so later runs only open the chat. A KB index built with
other settings than this version's (an older version's demo) is rebuilt, and the policy
calibrated again on it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

DEMO_DATA = files("assistant") / "demo_data"
DEMO_TARGET = 0.7  # answer precision the demo's policy is calibrated for
# tokens of conversation the ranker reads. The context encode is most of a turn; 32 tokens
# made turns ~10% faster but answered 3 points fewer held-out demo turns (docs/benchmarks.md)
DEMO_CONTEXT_TOKENS = 48
DEMO_FROZEN_LAYERS = (3, 1)  # lowest transformer layers not trained: intent, ranker
# how the demo's KB is chunked and searched with the ranker's encoder (kb.BuildConfig fields)
DEMO_KB_SETTINGS = {"max_words": 100, "overlap_words": 20, "keyword_weight": 0.3}


def _demo_articles() -> set[str]:
    """The demo's article files, as a KB manifest names them (POSIX paths under kb/)."""
    root = Path(str(DEMO_DATA / "kb"))
    return {f.relative_to(root).as_posix() for f in root.rglob("*") if f.is_file()}


def demo_paths(home: Path) -> dict[str, Path]:
    """Where the demo's models, KB index and conversation log live under `home`."""
    return {
        "intent": home / "models" / "intent",
        "ranker": home / "models" / "ranker",
        "kb": home / "kb",
        "calibration": home / "models" / "calibration",
        "db": home / "conversations.db",
    }


def is_prepared(home: Path) -> bool:
    """Whether the models, the KB index and the calibration under `home` are complete (have a
    manifest), and the index was built with this version's demo settings."""
    p = demo_paths(home)
    return all(
        (p[k] / "manifest.json").is_file() for k in ("intent", "ranker", "kb", "calibration")
    ) and kb_is_current(p)


def kb_is_current(p: dict[str, Path]) -> bool:
    """Whether the KB index in `p["kb"]` may stay as it is: it was built with
    `DEMO_KB_SETTINGS` and reads its passages at the token limit a build would use now
    (`kb.encoder.passage_limit`), or it is not the demo's at all (an index of other
    articles, a company's own, is never rebuilt from the demo's). Reads JSON files and the
    demo's folder listing; loads no model."""
    try:
        manifest = json.loads((p["kb"] / "manifest.json").read_text())
        if set(manifest.get("files") or {}) != _demo_articles():
            return True  # not the demo's index: not ours to rebuild
        config = manifest.get("config") or {}
        if any(config.get(key) != value for key, value in DEMO_KB_SETTINGS.items()):
            return False
        from kb.encoder import passage_limit

        built = (manifest.get("embedding") or {}).get("max_seq_length")
        return built == passage_limit(p["ranker"])
    except Exception:  # noqa: BLE001 - unreadable or from another version: rebuild it
        return False


def prepare_demo(
    home: Path, force: bool = False, log: Callable[[str], None] = print
) -> dict[str, Path]:
    """Train and build whatever is missing under `home`; returns the paths."""
    from training.intent import IntentTrainConfig, train_intent
    from training.ranker import RankerTrainConfig, train_ranker

    p = demo_paths(home)
    dialogues = str(DEMO_DATA / "dialogues.jsonl")
    steps = 4
    t_all = time.time()
    if force or not (p["intent"] / "manifest.json").is_file():
        log(f"[1/{steps}] training the demo intent classifier -> {p['intent']}")
        # the lowest 3 of MiniLM's 6 layers stay as they are: validation accuracy 99.2%
        # against 99.0% training all six, and the backward pass stops halfway (~20% less time)
        cfg = IntentTrainConfig(
            data=dialogues, out=str(p["intent"]), epochs=1, freeze_layers=DEMO_FROZEN_LAYERS[0]
        )
        train_intent(cfg, log=log)
    else:
        log(f"[1/{steps}] intent classifier already trained ({p['intent']})")
    if force or not (p["ranker"] / "manifest.json").is_file():
        log(f"[2/{steps}] training the demo response ranker -> {p['ranker']}")
        train_ranker(
            RankerTrainConfig(
                data=dialogues,
                out=str(p["ranker"]),
                max_pairs=2400,
                batch_size=32,
                max_context_length=DEMO_CONTEXT_TOKENS,
                # the untouched MiniLM ranks 0.18 of validation items first, the fine-tuned
                # one 0.57: validating it first would cost ~20 s of the first run for nothing
                baseline=False,
                # the lowest layer stays as it is (~10% less time, Recall@1 0.732 against 0.728)
                freeze_layers=DEMO_FROZEN_LAYERS[1],
            ),
            log=log,
        )
    else:
        log(f"[2/{steps}] response ranker already trained ({p['ranker']})")
    kb_built = False
    if force or not (p["kb"] / "manifest.json").is_file() or not kb_is_current(p):
        from kb import BuildConfig, build_index

        if (p["kb"] / "manifest.json").is_file() and not force:
            log(f"[3/{steps}] the demo knowledge base was built with older settings: rebuilding")
        log(f"[3/{steps}] building the demo knowledge-base index -> {p['kb']}")
        kb_built = True
        # Embedded with the ranker's encoder: at run time one forward pass then serves both the
        # reply ranking and the KB search (see assistant.engine). Its passages are read at 256
        # tokens (kb.config.PASSAGE_TOKENS), 100 words each, keyword weight 0.3: chosen with
        # this encoder on the three other knowledge bases of benchmarks/kb_carryover.py, the
        # demo's held out (docs/benchmarks.md, issue 10).
        build_index(
            str(DEMO_DATA / "kb"),
            str(p["kb"]),
            BuildConfig(model_path=str(p["ranker"]), **DEMO_KB_SETTINGS),
        )
    else:
        log(f"[3/{steps}] knowledge base already built ({p['kb']})")
    # thresholds are chosen on this KB's scores: a rebuilt KB is calibrated again
    if force or kb_built or not (p["calibration"] / "manifest.json").is_file():
        from training.calibrate import CalibrateConfig, calibrate

        log(f"[4/{steps}] calibrating the policy on validation dialogues -> {p['calibration']}")
        fields = calibrate(
            CalibrateConfig(
                models=str(home / "models"),
                data=str(DEMO_DATA / "dialogues_val.jsonl"),
                kb=str(p["kb"]),
                # 0.7: on the demo's validation turns it answers 86% of turns and hands off as
                # many dialogues as the defaults; 0.8 answers 60% and hands off 20% against 12%
                # (every unanswered turn counts towards a handoff; docs/evaluation.md, the
                # table of what each target buys).
                target=DEMO_TARGET,
            ),
            log=lambda m: log(f"      {m}"),
        )
        row = fields["metrics"]["calibrated"]
        handed = row.get("handoff")
        log(
            f"      answers {row['coverage']:.0%} of validation turns at precision "
            f"{row['precision'] or 0:.0%} (target {fields['target']:.0%})"
            + (f", hands {handed:.0%} of the dialogues to a person" if handed is not None else "")
        )
    else:
        log(f"[4/{steps}] policy already calibrated ({p['calibration']})")
    log(f"demo ready in {time.time() - t_all:.0f}s")
    return p
