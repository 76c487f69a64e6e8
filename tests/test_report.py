"""assistant/report.py and `assistant report`: per-version figures and knowledge gaps."""

from __future__ import annotations

import json

from click.testing import CliRunner

from assistant.cli import cli
from assistant.log import ConversationLog
from assistant.report import build_report, cluster_gaps


def exchange(log, cid, text, intent, source, version, reason="", time="2026-11-02T10:00:00Z"):
    log.add_turn(cid, "customer", text, intent=intent, confidence=0.5, time=time)
    return log.add_turn(
        cid,
        "assistant",
        "reply",
        source=source,
        reason=reason,
        model_versions={"intent": "i", "ranker": "r", "version": version},
        time=time,
    )


def make_log(path):
    with ConversationLog(path) as log:
        # Version 1: one contained conversation, one handed off after two gaps.
        a = log.new_conversation(started="2026-11-01T00:00:00Z")
        good = exchange(log, a, "where is my order", "order_status", "ranker", "1")
        log.add_feedback(good, 1)
        b = log.new_conversation(started="2026-11-01T00:00:00Z")
        exchange(log, b, "can I pay with bitcoin", "oos", "oos", "1")
        exchange(log, b, "do you take bitcoin payments", "payment", "clarify", "1",
                 "low confidence: intent payment 0.30")  # fmt: skip
        log.open_ticket(b, "customer asked for a human")
        log.add_turn(b, "agent", "Hi, we don't take bitcoin.")
        # Version 2: a bad rating, and an old turn before --since.
        c = log.new_conversation(started="2026-11-03T00:00:00Z")
        bad = exchange(log, c, "bitcoin accepted?", "payment", "ranker", "2")
        log.add_feedback(bad, -1)
        exchange(log, c, "reset my password", "password", "kb", "2")
        exchange(log, c, "my cat likes the thermostat", "oos", "oos", "2")
        exchange(log, c, "is there a student discount", "oos", "oos", "2")
        d = log.new_conversation(started="2026-01-01T00:00:00Z")
        exchange(log, d, "an old question", "oos", "oos", "1", time="2026-01-01T00:00:00Z")
        # Before versions: no "version" in model_versions.
        e = log.new_conversation(started="2026-11-04T00:00:00Z")
        log.add_turn(e, "customer", "hello", intent="greeting", confidence=0.9)
        log.add_turn(e, "assistant", "Hi!", source="ranker", model_versions={"intent": "x"})


def test_report_per_version_and_gaps(tmp_path):
    db = tmp_path / "log.db"
    make_log(db)
    with ConversationLog(db) as log:
        report = build_report(log, since="2026-11-01")
    by = {v["version"]: v for v in report["versions"]}
    assert list(by) == ["1", "2", "unversioned"]
    v1 = by["1"]
    assert (v1["conversations"], v1["turns"]) == (2, 3)
    assert v1["containment"] == 0.5 and v1["handoff_rate"] == 0.5
    assert v1["ratings"] == {"good": 1, "bad": 0}
    assert {"intent": "order_status", "count": 1} in v1["top_intents"]
    assert by["2"]["ratings"] == {"good": 0, "bad": 1} and by["2"]["containment"] == 1.0
    assert [g["count"] for g in by["2"]["gaps"]] == [1, 1, 1]
    # The three bitcoin questions (oos, fallback, rated bad) are one gap; the old one is not in.
    top = report["gaps"][0]
    assert top["count"] == 3 and "bitcoin" in top["terms"]
    assert top["why"] == {"oos": 1, "fallback": 1, "rated_bad": 1}
    assert [g["count"] for g in report["gaps"]] == [3, 1, 1]
    assert all("old question" not in ex for g in report["gaps"] for ex in g["examples"])

    res = CliRunner().invoke(cli, ["report", "--db", str(db), "--json", "--since", "2026-11-01"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == json.loads(json.dumps(report))
    res = CliRunner().invoke(cli, ["report", "--db", str(db)])
    assert res.exit_code == 0 and "version 1:" in res.stdout and "bitcoin" in res.stdout
    res = CliRunner().invoke(cli, ["report", "--db", str(db), "--since", "last week"])
    assert res.exit_code != 0 and "--since" in res.output


def test_cluster_gaps_of_nothing_and_of_stop_words():
    assert cluster_gaps([]) == []
    assert cluster_gaps([("the", "oos"), ("a", "oos")])[0]["count"] >= 1
