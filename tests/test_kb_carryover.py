"""benchmarks/kb_carryover.py: the choice rule on made-up grids (fast), and the shipped
defaults against the plain baseline on the held-out e-bike KB with the real MiniLM (slow)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def carryover():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("kb_carryover")
    finally:
        sys.path.remove(str(BENCHMARKS))


def _run(size, weight, r1, r5, floor=0.0):
    return {
        "max_words": size,
        "pack_blocks": True,
        "template": "title_section",
        "keyword_weight": weight,
        "keyword_floor": floor,
        "r1": r1,
        "r5": r5,
        "mrr": r1,
    }


def test_choice_prefers_a_setting_that_meets_the_targets_everywhere(carryover):
    results = {
        "demo": {
            "baseline": {"r1": 0.73, "r5": 0.95},
            "grid": [_run(60, 0.2, 0.86, 0.99), _run(150, 0.25, 0.85, 0.97, 0.4)],
        },
        "helpdesk": {
            "baseline": {"r1": 0.84, "r5": 1.0},
            # the better mean misses the baseline's R@5 by one question
            "grid": [_run(60, 0.2, 0.95, 0.99), _run(150, 0.25, 0.92, 1.0, 0.4)],
        },
    }
    assert carryover.choose(results, ["demo", "helpdesk"]) == (
        150,
        True,
        "title_section",
        0.25,
        0.4,
    )
    # on the demo alone both meet the targets: the better mean wins
    assert carryover.choose(results, ["demo"])[0] == 60
    # the demo's own targets count: R@1 0.84 is not enough even above the baseline
    assert not carryover.meets_targets("demo", _run(60, 0.2, 0.84, 0.99), {"r1": 0.7, "r5": 0.9})
    assert carryover.meets_targets("other", _run(60, 0.2, 0.84, 0.99), {"r1": 0.7, "r5": 0.9})


def test_variant_specs_become_build_config_fields(carryover):
    fields = carryover.parse_variant("max_words=150,keyword_weight=0.25,keyword_floor=0.4")
    assert fields == {
        "max_words": 150,
        "keyword_weight": 0.25,
        "keyword_floor": 0.4,
        "overlap_words": 30,
    }
    assert carryover.parse_variant("model_path=runs/ranker,max_seq_length=48") == {
        "model_path": "runs/ranker",
        "max_seq_length": 48,
    }
    with pytest.raises(SystemExit, match="'nope' is not a BuildConfig field"):
        carryover.parse_variant("nope=1")


# Builds the e-bike KB (a voice the defaults were not chosen on) with the bundled MiniLM and
# embeds its paragraphs for the baseline: about a minute on a quiet 2-core CPU.
@pytest.mark.slow
def test_the_defaults_beat_the_plain_baseline_on_the_held_out_kb(carryover):
    docs, questions = carryover.KBS["ebike"]
    col = carryover.load_collection("ebike", docs, questions)
    encoder = carryover.load_encoder(None, precision="fp32")
    col.embeddings = encoder.encode([q for q, _ in col.questions], batch_size=32)
    base = carryover.baseline(col, carryover.CachedEncoder(encoder))
    shipped = carryover.shipped("ebike", docs, questions)
    assert shipped["r1"] >= base["r1"] and shipped["r5"] >= base["r5"], (shipped, base)
