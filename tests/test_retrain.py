"""training/retrain.py, training/gate.py and `assistant retrain` on tiny data: promote, refuse
(the gate, with the corrections that pulled an intent down), --force, the migration of an old
directory on the way, small data without validation, and the log export's labels."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from conftest import REPLIES, WORDS

from assistant.cli import cli
from assistant.log import ConversationLog
from assistant.log.export import log_training_data
from assistant.versions import ModelStore
from training.gate import GateConfig, judge

SUFFIXES = ("", "?", " please", " !!")  # the training data's (conftest.make_dialogues)


def write_exam(path):
    """Evaluation dialogues whose texts never occur in the training data (no leak to drop)."""
    with open(path, "w") as fh:
        n = 0
        for intent, phrases in sorted(WORDS.items()):
            for phrase in phrases:
                for extra in (" today", " asap", " now"):
                    turns = [
                        {"role": "customer", "text": phrase + extra, "intent": intent},
                        {"role": "agent", "text": REPLIES[intent].replace("{n}", "Ann")},
                        {"role": "customer", "text": "thank you" + extra, "intent": "thanks"},
                        {"role": "agent", "text": "You're welcome!"},
                    ]
                    fh.write(json.dumps({"id": f"e{n}", "turns": turns}) + "\n")
                    n += 1
    return path


@pytest.fixture
def env(tmp_path, intent_dir, ranker_dir, dialogues):
    models = tmp_path / "models"
    shutil.copytree(intent_dir, models / "intent")  # the older shape: becomes version 1
    shutil.copytree(ranker_dir, models / "ranker")
    exam = write_exam(tmp_path / "exam.jsonl")
    return {"models": models, "exam": exam, "db": tmp_path / "log.db", "data": dialogues}


def settings(models, **gate):
    """Small training runs; the gate's rules as given."""
    (models / "retrain.json").write_text(
        json.dumps({"epochs": 1, "ranker_epochs": 1, "ranker_max_pairs": 64, "gate": gate})
    )


LENIENT = dict(macro_f1_tolerance=1.0, intent_margin=1.0, oos_recall_tolerance=1.0)
STRICT = dict(macro_f1_tolerance=1.0, intent_margin=0.05, min_intent_examples=3)


def turn(log, cid, text, intent, confidence, answer="ok", source="ranker", **kw):
    """A customer turn and the bot's reply; returns (customer turn id, reply id)."""
    c = log.add_turn(cid, "customer", text, intent=intent, confidence=confidence)
    r = log.add_turn(cid, "assistant", answer, source=source, **kw)
    return c, r


def good_log(db):
    """Agents confirm and correct a few turns and answer one handed-off customer."""
    with ConversationLog(db) as log:
        cid = log.new_conversation()
        c, _ = turn(log, cid, "refund still missing", "order_status", 0.4)
        log.add_correction(c, corrected_intent="refund_status", agent="ana")
        c, _ = turn(log, cid, "cam offline again", "device_offline", 0.7)
        log.add_correction(c, corrected_intent="device_offline", agent="bo")
        turn(log, cid, "what's the weather", "oos", 0.9, "Sorry, that's outside...", "oos")
        cid = log.new_conversation()
        turn(log, cid, "a person please", "human_agent", 0.99, "Handing over.", "handoff")
        log.add_turn(cid, "agent", "Hi, Ana here: your parcel left our warehouse today.")


def poisoned_log(db):
    """Every order_status question of the training data corrected to refund_status."""
    with ConversationLog(db) as log:
        cid = log.new_conversation()
        for phrase in WORDS["order_status"]:
            for suffix in SUFFIXES:
                c, _ = turn(log, cid, phrase + suffix, "order_status", 0.95)
                log.add_correction(c, corrected_intent="refund_status", agent="mallory")


def retrain(env, *extra):
    args = ["retrain", "--models", str(env["models"]), "--db", str(env["db"]), "--json"]
    res = CliRunner().invoke(cli, [*args, *extra])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out) == {"promoted", "version", "current", "reasons", "metrics", "per_intent"}
    return out


def test_first_retrain_migrates_learns_and_promotes(env):
    settings(env["models"], **LENIENT)
    good_log(env["db"])
    out = retrain(env, "--data", str(env["data"]), "--eval", str(env["exam"]))
    assert out["promoted"] is True and out["version"] == "2" and out["current"] == "2"
    assert set(out["metrics"]) == {"current", "candidate"}
    for m in out["metrics"].values():
        assert {"accuracy", "macro_f1", "oos_recall", "ranker_recall_at_1"} <= set(m)
        assert m["ranker_recall_at_1"] is not None  # the exam has dialogues
    intents = {r["intent"]: r for r in out["per_intent"]}
    assert set(intents) == {"order_status", "refund_status", "device_offline", "thanks"}
    assert set(intents["thanks"]) == {"intent", "n", "f1_current", "f1_candidate"}
    assert intents["thanks"]["n"] == 36

    store = ModelStore(env["models"])
    assert store.ids() == ["1", "2"] and store.manifest("1")["source"] == "migrated"
    v2 = store.version_dir("2")
    m = store.manifest("2")
    assert m["parent"] == "1" and m["gate"]["passed"] is True and m["forced"] is False
    # What it learnt from: 2 agent labels, 1 reply written by a person (so a new ranker).
    assert m["data"]["log_corrections"] == 2 and m["data"]["new_agent_replies"] == 1
    assert m["ranker_retrained"] is True
    # The bot's own messages never became agent replies of the new ranker's data.
    replies = {
        t["text"]
        for line in (v2 / "data" / "train_dialogues.jsonl").read_text().splitlines()
        for t in json.loads(line)["turns"]
        if t["role"] == "agent"
    }
    assert "Hi, Ana here: your parcel left our warehouse today." in replies
    assert not replies & {"Handing over.", "Sorry, that's outside..."}
    # The data snapshot for the next run, and the exam frozen with this first run.
    assert (v2 / "data" / "base_intents.csv").is_file()
    assert (v2 / "data" / "base_dialogues.jsonl").is_file()
    assert (env["models"] / "eval" / "eval_intents.csv").is_file()
    assert json.loads((v2 / "metrics.json").read_text())["per_intent"]
    assert (store.version_dir("1") / "metrics.json").is_file()  # the current, scored too

    # Nothing new in the log since: nothing to train.
    shutil.copy(env["db"], env["db"].with_suffix(".bak"))
    env["db"].unlink()
    with ConversationLog(env["db"]):
        pass
    out = retrain(env)
    assert out["promoted"] is False and out["version"] is None and out["current"] == "2"
    assert "nothing new" in out["reasons"][0]


def test_the_gate_refuses_a_poisoned_batch_and_names_the_corrections(env):
    settings(env["models"], **STRICT)
    poisoned_log(env["db"])
    out = retrain(env, "--data", str(env["data"]), "--eval", str(env["exam"]))
    assert out["promoted"] is False and out["current"] == "1" and out["version"] == "2"
    text = "\n".join(out["reasons"])
    assert "not promoted: version 1 stays current" in text
    assert "order_status" in text and "mallory" in text
    order = next(r for r in out["per_intent"] if r["intent"] == "order_status")
    assert order["f1_candidate"] < order["f1_current"] - 0.05
    store = ModelStore(env["models"])
    assert store.current_id() == "1"
    assert store.manifest("2")["gate"]["passed"] is False
    gate = json.loads((store.version_dir("2") / "gate.json").read_text())
    assert gate["culprits"]["order_status"][0]["agent"] == "mallory"
    assert store.history()[-1]["event"] == "refused"
    # The current version's files are untouched: the chat goes on with version 1.
    assert ModelStore(env["models"]).resolve().path.name == "1"

    # --force promotes it anyway and says so.
    out = retrain(env, "--force", "--data", str(env["data"]))
    assert out["promoted"] is True and out["current"] == "3"
    assert out["reasons"][0].startswith("promoted with --force")
    assert store.manifest("3")["forced"] is True
    assert store.history()[-1]["event"] == "force" and store.history()[-1]["forced"] is True
    # ... and rolling back returns to version 1.
    res = CliRunner().invoke(cli, ["models", "rollback", "--models", str(env["models"])])
    assert res.exit_code == 0 and store.current_id() == "1"


def test_small_data_without_validation_trains_and_retrains(tmp_path, tiny_st_model):
    data = tmp_path / "tiny.csv"
    rows = ["text,label"] + [f"where is order {i},order_status" for i in range(4)]
    rows += [f"refund for item {i},refund_status" for i in range(4)]
    data.write_text("\n".join(rows) + "\n")
    out = tmp_path / "models" / "intent"
    args = ["train", "intent", "--data", str(data), "--out", str(out), "--epochs", "1"]
    res = CliRunner().invoke(cli, [*args, "--base-model", str(tiny_st_model)])
    assert res.exit_code == 0, res.output
    assert "0 validation examples" in res.output or "no validation" in res.output
    # Retraining that model with the same handful of examples, the exam held out of them.
    shutil.copytree(tmp_path / "models" / "intent", tmp_path / "m2" / "intent")
    from conftest import make_dialogues

    from training.ranker import RankerTrainConfig, train_ranker

    dl = make_dialogues(tmp_path / "d.jsonl", n=20)
    train_ranker(
        RankerTrainConfig(
            data=str(dl),
            out=str(tmp_path / "m2" / "ranker"),
            epochs=0,
            base_model=str(tiny_st_model),
            batch_size=4,
            max_pairs=8,
            lexical=False,
        ),
        log=lambda m: None,
    )
    (tmp_path / "m2" / "retrain.json").write_text(json.dumps({"epochs": 1, "gate": LENIENT}))
    res = CliRunner().invoke(
        cli, ["retrain", "--models", str(tmp_path / "m2"), "--data", str(data), "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["promoted"] is True and out["version"] == "2"
    assert any("held out of --data" in r for r in out["reasons"])


def test_gate_rules():
    cfg = GateConfig(macro_f1_tolerance=0.01, intent_margin=0.1, min_intent_examples=10)
    cur = {"macro_f1": 0.9, "oos_recall": 0.8, "ranker_recall_at_1": 0.5}
    row = {"intent": "a", "n": 10, "f1_current": 0.9, "f1_candidate": 0.85}
    assert judge(cur, {**cur, "macro_f1": 0.895}, [row], cfg).passed
    v = judge(cur, {**cur, "macro_f1": 0.88}, [row], cfg)
    assert not v.passed and "macro-F1" in v.reasons[0]
    v = judge(cur, cur, [{**row, "f1_candidate": 0.7}], cfg)
    assert not v.passed and v.regressed[0]["intent"] == "a"
    # Too few evaluation examples for the per-intent rule.
    assert judge(cur, cur, [{**row, "n": 9, "f1_candidate": 0.0}], cfg).passed
    v = judge(cur, {**cur, "oos_recall": 0.79}, [], cfg)
    assert not v.passed and "out-of-scope recall" in v.reasons[0]
    worse_ranker = {**cur, "ranker_recall_at_1": 0.4}
    assert judge(cur, worse_ranker, [], cfg).passed  # the ranker was not retrained
    assert not judge(cur, worse_ranker, [], cfg, ranker_retrained=True).passed
    with pytest.raises(Exception, match="intent_margin"):
        GateConfig(intent_margin=2)


def test_log_labels_and_what_never_becomes_an_agent_reply(tmp_path):
    with ConversationLog(tmp_path / "l.db") as log:
        cid = log.new_conversation()
        c1, _ = turn(log, cid, "where is it", "order_status", 0.97, "It shipped.")
        c0, _ = turn(log, cid, "parcel late", "order_status", 0.6, "Sorry about that.")
        log.add_correction(c0, corrected_intent="order_status", agent="bo", kind="confirm")
        c2, r2 = turn(log, cid, "refund?", "refund_status", 0.95, "Refunds take 5 days.")
        log.add_feedback(r2, -1)  # rated bad: neither a label nor a reply
        c3, _ = turn(log, cid, "hmm", "order_status", 0.3, "Sorry, I'm not sure...", "clarify")
        log.add_correction(c3, corrected_intent="thanks", agent="ana")
        turn(log, cid, "weather?", "oos", 0.9, "Sorry, that's outside...", "oos")
        turn(log, cid, "kb q", "billing", 0.6, "Here is what our help centre says", "kb")
        turn(log, cid, "human", "human_agent", 0.99, "Handing over.", "handoff")
        log.add_turn(cid, "customer", "hello?")
        log.add_turn(cid, "agent", "Hi, Ana here.")
        data = log_training_data(log, None)  # predictions are never labels
        pseudo = log_training_data(log, 0.9)
    assert [(lab.text, lab.label, lab.origin, lab.agent) for lab in data.labels] == [
        ("parcel late", "order_status", "confirm", "bo"),
        ("hmm", "thanks", "correct", "ana"),
    ]
    assert data.labels[1].predicted == "order_status" and data.labels[1].turn_id == c3
    assert sorted(lab.text for lab in pseudo.labels) == [
        "hmm",
        "human",
        "parcel late",
        "weather?",
        "where is it",
    ]
    replies = [t["text"] for t in data.dialogues[0]["turns"] if t["role"] == "agent"]
    assert replies == ["It shipped.", "Sorry about that.", "Hi, Ana here."]
    assert data.counts["bot_messages"] == 4 and data.counts["agent_replies"] == 1
    assert c1 and c2


def test_a_retrained_ranker_validates_its_base_model_even_when_the_demo_skipped_it(tmp_path):
    """The demo trains its ranker with baseline=False (a faster first run); a retraining
    inherits the rest of its recipe but keeps the full selection."""
    from kb.manifest import write_manifest
    from training.retrain import RetrainConfig, _ranker_config

    write_manifest(tmp_path, "ranker", config={"baseline": False, "max_pairs": 2400})
    cfg = _ranker_config(tmp_path, RetrainConfig(models=str(tmp_path)), tmp_path / "d.jsonl",
                         tmp_path / "out")  # fmt: skip
    assert cfg.baseline is True and cfg.max_pairs == 2400
