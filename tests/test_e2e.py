"""End-to-end with the real bundled MiniLM: training learns.

Small self-written data (tests/data/intents_*.csv, a slice of the demo dialogues); held-out
examples use wording that never appears in training. The intent classifier's test runs by
default (marker `e2e`); the ranker's, minutes long, is `slow`: `python -m pytest -m slow`.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest

from training.evaluate import evaluate_intent, evaluate_ranker
from training.intent import IntentTrainConfig, train_intent
from training.ranker import RankerTrainConfig, train_ranker

pytestmark = pytest.mark.e2e
DATA = Path(__file__).parent / "data"


def test_intent_classifier_learns(tmp_path):
    out = tmp_path / "intent"
    manifest = train_intent(
        IntentTrainConfig(data=str(DATA / "intents_train.csv"), out=str(out), epochs=2, seed=0),
        log=lambda m: None,
    )
    m = evaluate_intent(out, DATA / "intents_test.csv")
    # 5 in-scope intents: chance is 20%.
    assert m["accuracy"] >= 0.8, m
    assert m["oos_recall"] >= 0.6, m
    assert manifest["labels"] == sorted(
        [
            "order_status",
            "refund_request",
            "reset_password",
            "device_offline",
            "cancel_subscription",
            "oos",
        ]
    )


# Two MiniLM trainings and evaluations: minutes on a 2-core CPU, so not in the default run.
@pytest.mark.slow
def test_ranker_learns_demo_replies(tmp_path):
    lines = (files("assistant") / "demo_data" / "dialogues.jsonl").read_text().splitlines()
    (tmp_path / "train.jsonl").write_text("\n".join(lines[:400]) + "\n")
    (tmp_path / "test.jsonl").write_text("\n".join(lines[1800:1900]) + "\n")
    base = tmp_path / "base"
    cfg = dict(data=str(tmp_path / "train.jsonl"), seed=0, val_samples=200, batch_size=32)
    train_ranker(  # the untouched MiniLM alone
        RankerTrainConfig(out=str(base), epochs=0, lexical=False, **cfg), log=lambda m: None
    )
    tuned = tmp_path / "tuned"
    train_ranker(
        RankerTrainConfig(out=str(tuned), epochs=1, max_pairs=1280, **cfg), log=lambda m: None
    )
    before = evaluate_ranker(base, tmp_path / "test.jsonl", max_examples=300)
    after = evaluate_ranker(tuned, tmp_path / "test.jsonl", max_examples=300)
    assert after["recall_at_1"] >= before["recall_at_1"] + 0.1, (before, after)
    assert json.loads((tuned / "manifest.json").read_text())["metrics"]["best_epoch"] == 1
