"""training/calibrate.py, assistant/calibration.py, `assistant calibrate` and
`assistant eval dialogues` (training/replay.py).

The sweep is checked on synthetic scores (the thresholds it must choose are known); the whole
calibration and the replay run once on tiny random models, for their wiring and files.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from assistant.calibration import load_calibration, save_calibration
from assistant.cli import cli
from assistant.config import EngineConfig
from assistant.engine import DialogueEngine
from assistant.errors import ConfigError, ModelError
from training.calibrate import (
    CalibrateConfig,
    SubsetScores,
    Turn,
    best_pair,
    calibrate,
    format_report,
    handoff_note,
    handoff_rate,
    outcome,
)
from training.replay import TurnResult, dialogue_metrics


def scores(reply, reply_ok, passage=None, passage_ok=None, by_intent=None, by_intent_ok=None):
    n = len(reply)
    return SubsetScores(
        np.array(reply, float),
        np.array(reply_ok, bool),
        np.array(by_intent if by_intent is not None else [False] * n, bool),
        np.array(by_intent_ok if by_intent_ok is not None else [False] * n, bool),
        np.array(passage if passage is not None else [-1.0] * n, float),
        np.array(passage_ok if passage_ok is not None else [False] * n, bool),
    )


GRID = np.round(np.arange(0.3, 0.951, 0.05), 4)


# -- the sweep on synthetic scores ----------------------------------------------------------


def test_the_lowest_bar_that_keeps_the_target_precision_is_chosen():
    # Replies scoring 0.9..0.6 are right, one at 0.55 is wrong, 0.5 and below are half right.
    s = scores(
        [0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5, 0.45, 0.4, 0.35],
        [1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0],
    )
    r, _, answered, correct, reached = best_pair(s, 0.9, GRID, min_answers=3)
    # At 0.55 precision is 7/8 = 0.875 < 0.9: the bar stays at 0.6, answering 7.
    assert (r, answered, correct, reached) == (0.6, 7, 7, True)
    # A lower target buys more coverage: at 0.4, 9 of 11 are right (0.82); at 0.35, 9 of 12.
    r, _, answered, correct, _ = best_pair(s, 0.8, GRID, min_answers=3)
    assert (r, answered, correct) == (0.4, 11, 9)


def test_ties_on_coverage_go_to_the_more_precise_then_higher_pair():
    s = scores([0.9, 0.8, 0.7], [1, 1, 0], passage=[0.2, 0.2, 0.2])
    r, k, answered, _, _ = best_pair(s, 0.6, GRID, min_answers=1)
    assert answered == 3 and r == 0.7  # answering all three is 2/3 >= 0.6
    assert k == GRID.max()  # the passages never answer, so the highest KB bar is kept


def test_the_kb_answers_what_the_ranker_leaves():
    s = scores(
        [0.9, 0.5, 0.5, 0.5], [1, 0, 0, 0], passage=[0.1, 0.8, 0.7, 0.4], passage_ok=[0, 1, 1, 0]
    )
    r, k, answered, correct, _ = best_pair(s, 0.99, GRID, min_answers=1)
    assert (answered, correct) == (3, 3) and r > 0.5 and 0.4 < k <= 0.7
    a, c = outcome(s, np.array([r]), np.array([k]))
    assert (a[0], c[0]) == (3, 3)


def test_the_intent_rule_answers_below_the_reply_bar():
    s = scores([0.4, 0.4], [0, 0], by_intent=[1, 0], by_intent_ok=[1, 0])
    a, c = outcome(s, np.array([0.9]), np.array([0.9]))
    assert (a[0], c[0]) == (1, 1)


def test_an_unreachable_target_keeps_the_most_precise_pair_and_says_so():
    s = scores([0.9, 0.8, 0.7, 0.6], [0, 1, 0, 1])
    r, _, answered, correct, reached = best_pair(s, 0.95, GRID, min_answers=2)
    # Every pair is half right: of the most precise, the one answering most.
    assert not reached and (r, answered, correct) == (0.6, 4, 2)
    # Out-of-scope turns are then not answered at all, nor is anything on too little data.
    assert best_pair(s, 0.95, GRID, min_answers=2, otherwise="nothing")[:3] == (1.0, 1.0, 0)
    assert best_pair(s, 0.95, GRID, min_answers=10)[:3] == (1.0, 1.0, 0)


def test_a_floor_keeps_the_out_of_scope_bar_above_the_in_scope_one():
    s = scores([0.5, 0.45], [1, 1])
    r, k, *_ = best_pair(s, 0.9, GRID, min_answers=1, floor=(0.7, 0.6))
    assert r >= 0.7 and k >= 0.6


def test_calibrate_config_checks_its_values():
    with pytest.raises(ConfigError, match="target must be in"):
        CalibrateConfig(models="m", data="d", target=1.5)
    with pytest.raises(ConfigError, match="grid"):
        CalibrateConfig(models="m", data="d", grid_min=0.9, grid_max=0.2)


# -- stored with the models, applied by the engine ------------------------------------------


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, intent_dir, ranker_dir):
    d = tmp_path_factory.mktemp("models")
    shutil.copytree(intent_dir, d / "intent")
    shutil.copytree(ranker_dir, d / "ranker")
    return d


def _copy(models_dir, tmp_path):
    d = tmp_path / "models"
    shutil.copytree(models_dir, d)
    return d


def test_the_engine_uses_the_calibration_stored_with_its_models(models_dir, tmp_path):
    d = _copy(models_dir, tmp_path)
    plain = DialogueEngine.load(d)
    assert plain.calibration is None and plain.config == EngineConfig()
    versions = {k: v for k, v in plain.versions.items() if k in ("intent", "ranker")}
    save_calibration(
        d, thresholds={"reply_threshold": 0.71, "kb_threshold": 0.33}, target=0.9, models=versions
    )
    assert load_calibration(d)["thresholds"]["reply_threshold"] == 0.71
    e = DialogueEngine.load(d)
    assert (e.config.reply_threshold, e.config.kb_threshold) == (0.71, 0.33)
    assert e.config.reply_threshold_oos == EngineConfig().reply_threshold_oos  # not calibrated
    assert "calibrated for answer precision 0.9" in e.calibration_note
    # --no-calibration, and a setting from a config file, win over the calibration.
    assert DialogueEngine.load(d, calibration=False).config.reply_threshold == 0.55
    cfg_file = tmp_path / "config.json"
    cfg_file.write_text('{"reply_threshold": 0.6}')
    e2 = DialogueEngine.load(d, config=EngineConfig.from_file(cfg_file))
    assert (e2.config.reply_threshold, e2.config.kb_threshold) == (0.6, 0.33)


def test_a_calibration_for_other_models_is_not_applied(models_dir, tmp_path):
    d = _copy(models_dir, tmp_path)
    save_calibration(d, thresholds={"reply_threshold": 0.71}, models={"intent": "intent:old"})
    e = DialogueEngine.load(d)
    assert e.config.reply_threshold == 0.55 and e.calibration is None
    assert "not applied" in e.calibration_note and "intent:old" in e.calibration_note


def test_a_damaged_calibration_is_named_with_the_fix(models_dir, tmp_path):
    d = _copy(models_dir, tmp_path)
    save_calibration(d, thresholds={"reply_threshold": 7})
    with pytest.raises(ModelError, match=r"calibration/manifest.json: threshold reply_threshold=7"):
        DialogueEngine.load(d)
    (d / "calibration" / "manifest.json").write_text("{")
    with pytest.raises(ModelError, match="corrupted.*assistant calibrate"):
        DialogueEngine.load(d)


# -- what the thresholds cost in handoffs ---------------------------------------------------


def test_handoff_rate_carries_the_unhelpful_streak_through_each_dialogue():
    from test_policy import engine as stub_engine

    # A sure intent whose best reply scores 0.5: under the default bar (0.55) every turn falls
    # back, and the third fallback in a row hands off.
    e = stub_engine({"order_status": 0.9, "oos": 0.1}, reply_score=0.5)
    messages = ["where is my parcel", "it was due on monday", "the tracking page is blank"]
    turns = [Turn([], m, "true", None, d) for d in ("a", "b") for m in messages]
    turns.append(Turn([], "where is my parcel", "true", None, "c"))  # one turn: no handoff
    evidence = [e.evidence(t.history, t.message) for t in turns]
    assert handoff_rate(e, evidence, turns, e.config) == round(2 / 3, 4)
    # The streak restarts with each dialogue: two turns of "a" then three of "b" hand off "b" only.
    assert handoff_rate(e, evidence[1:], turns[1:], e.config) == round(1 / 3, 4)
    # A bar the replies reach answers every turn: nobody is handed over.
    assert handoff_rate(e, evidence, turns, e.config.calibrated({"reply_threshold": 0.45})) == 0
    assert handoff_rate(e, [], [], e.config) is None


def test_a_calibration_that_hands_off_much_more_says_so():
    assert handoff_note(0.14, 0.20, 0.10) is None
    note = handoff_note(0.14, 0.40, 0.10)
    assert "40.0%" in note and "14.0%" in note
    fields = {
        "target": 0.8,
        "reached": True,
        "thresholds": {"reply_threshold": 0.6},
        "metrics": {
            "defaults": {"coverage": 0.9, "precision": 0.6, "handoff": 0.14},
            "calibrated": {"coverage": 0.4, "precision": 0.8, "handoff": 0.4},
            "handoff_warning": note,
        },
        "table": [],
    }
    report = format_report(fields)
    assert "WARNING: the calibrated thresholds hand 40.0%" in report
    assert "0.400" in report.splitlines()[5]  # the calibrated line shows its handoff share


# -- the whole calibration and the replay, tiny models -------------------------------------


def test_calibrate_end_to_end_writes_what_the_engine_reads(models_dir, dialogues, tmp_path):
    d = _copy(models_dir, tmp_path)
    fields = calibrate(
        CalibrateConfig(models=str(d), data=str(dialogues), target=0.5, min_answers=2),
        log=lambda m: None,
    )
    # The policy itself reproduced the sweep's figures.
    assert fields["metrics"]["sweep_agrees"] is True
    assert fields["metrics"]["calibrated"]["turns"] == fields["data"]["turns"] > 0
    assert set(fields["thresholds"]) == {
        "reply_threshold",
        "reply_threshold_oos",
        "clarify_min_mass",
    }  # no KB given: the KB bars keep their defaults
    assert fields["thresholds"]["reply_threshold_oos"] >= fields["thresholds"]["reply_threshold"]
    assert [row["target"] for row in fields["table"]] == sorted(
        row["target"] for row in fields["table"]
    )
    manifest = load_calibration(d)
    assert manifest["kind"] == "calibration" and manifest["data"]["sha256"]
    e = DialogueEngine.load(d)
    assert e.config.reply_threshold == fields["thresholds"]["reply_threshold"]
    report = format_report(fields)
    assert "what each target precision buys" in report and "calibrated" in report
    # Coverage, precision and handoffs side by side, for the defaults, the choice and each row.
    assert "handoff*" in report
    for row in (fields["metrics"]["defaults"], fields["metrics"]["calibrated"], *fields["table"]):
        assert row["handoff"] is None or 0 <= row["handoff"] <= 1
    assert all("clarify_min_mass" in row for row in fields["table"])
    assert "cosine" in fields["judge"]


def test_calibrate_with_a_kb_judges_its_answers_by_their_article(
    models_dir, dialogues, tiny_index, tmp_path
):
    d = _copy(models_dir, tmp_path)
    fields = calibrate(
        CalibrateConfig(models=str(d), data=str(dialogues), kb=str(tiny_index), min_answers=2),
        log=lambda m: None,
        save=False,
    )
    assert {"kb_threshold", "kb_threshold_oos"} <= set(fields["thresholds"])
    assert "the article the exchange is about" in fields["judge"]
    assert fields["metrics"]["sweep_agrees"] is True
    assert set(fields["metrics"]["calibrated"]["precision_by_source"]) == {"ranker", "kb"}


def test_calibrate_and_eval_dialogues_commands(models_dir, dialogues, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))  # no KB found by default
    d = _copy(models_dir, tmp_path)
    runner = CliRunner()
    res = runner.invoke(
        cli, ["calibrate", "--models", str(d), "--data", str(dialogues), "--dry-run", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert {"thresholds", "table", "metrics", "reached"} <= set(out)
    assert not (d / "calibration").exists()  # --dry-run writes nothing
    turns = tmp_path / "turns.jsonl"
    res = runner.invoke(
        cli,
        [
            "eval",
            "dialogues",
            "--models",
            str(d),
            "--data",
            str(dialogues),
            "--json",
            "--turns",
            str(turns),
        ],
    )
    assert res.exit_code == 0, res.output
    m = json.loads(res.stdout.strip().splitlines()[-1])
    for key in (
        "coverage",
        "answered",
        "precision",
        "claims",
        "kb_quoted_claims",
        "ungrounded",
        "unfit",
        "clarify",
        "handoff",
        "loop",
        "dialogues",
        "turns",
    ):
        assert key in m
    assert m["dialogues"] == 60 and m["turns"] == 120
    assert abs(sum(v for v in m["coverage"].values() if v) - 1.0) < 1e-3
    rows = [json.loads(line) for line in turns.read_text().splitlines()]
    assert len(rows) == 120 and {"source", "reply", "true_reply", "matched"} <= set(rows[0])


# -- the detectors and the metrics ----------------------------------------------------------


def _turn(did, source, reply="r", matched=None):
    return TurnResult(did, 0, "m", source, reply, "", None, 0.0, 1.0, None, "t", matched=matched)


def test_loops_handoffs_and_precision_are_counted_per_dialogue():
    results = [
        _turn("a", "ranker", "x", True),
        _turn("a", "kb", "y", False),
        _turn("b", "fallback", "f1"),
        _turn("b", "clarify", "c"),
        _turn("b", "oos", "o"),
        _turn("c", "ranker", "same", True),
        _turn("c", "ranker", "same", True),
        _turn("d", "fallback", "f"),
        _turn("d", "handoff", "h"),
        _turn("d", "muted", ""),
    ]
    m = dialogue_metrics(results, loop_after=3)
    assert m["dialogues"] == 4 and m["turns"] == 10
    assert m["loop"] == 0.5  # b (three unhelpful replies, no person) and c (the same answer)
    assert m["handoff"] == 0.25
    assert m["precision"] == 0.75 and m["answered"] == 0.4
