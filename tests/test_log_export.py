"""assistant/log/export.py: the log back as training data, read by the training loaders."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.errors import ConfigError
from assistant.log import ConversationLog, export_training_data, new_id
from assistant.reply import Candidate, Reply
from training.data import Dialogue, Turn, load_dialogues, load_intent_examples


@pytest.fixture
def log():
    with ConversationLog(":memory:") as log:
        yield log


def read_export(out_dir):
    dialogues = [
        json.loads(line) for line in (out_dir / "dialogues.jsonl").read_text().splitlines()
    ]
    with (out_dir / "intents.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    return dialogues, rows


def test_export_training_data(log, tmp_path):
    # 1. Confident prediction, good reply: the predicted intent is the label.
    a = log.new_conversation(started="2026-01-01T00:00:00.000Z")
    log.add_turn(a, "customer", "where is NH-48213?", intent="order_status", confidence=0.97)
    r = log.add_turn(a, "assistant", "It shipped yesterday.", source="ranker")
    log.add_feedback(r, 1)
    log.add_turn(a, "customer", "thanks", intent="thanks_goodbye", confidence=0.5)
    log.add_turn(a, "assistant", "You're welcome!", source="ranker")

    # 2. An agent's corrected intent wins over a confident wrong prediction; a bad-rated reply is
    #    dropped; a corrected reply replaces the original.
    b = log.new_conversation(started="2026-01-02T00:00:00.000Z")
    c1 = log.add_turn(b, "customer", "my heating stopped", intent="device_offline", confidence=0.95)
    bad = log.add_turn(b, "assistant", "Restart your router.", source="ranker")
    log.add_feedback(bad, -1)
    log.add_correction(c1, corrected_intent="thermostat_issue", agent="ana")
    log.add_turn(b, "customer", "charged twice", intent="unexpected_charge", confidence=0.99)
    wrong = log.add_turn(b, "assistant", "Here is your invoice.", source="ranker")
    log.add_feedback(wrong, -1)
    log.add_correction(wrong, corrected_reply="I've refunded the duplicate charge.", agent="ana")
    log.add_turn(b, "customer", "can I talk to someone?", intent="human_agent", confidence=0.99)
    log.add_turn(b, "assistant", "(bot muted)", source="muted")
    log.add_turn(b, "agent", "Hi, Ana here.")

    # 3. Intent predicted on the assistant turn; the correction on the reply applies.
    c = log.new_conversation(started="2026-01-03T00:00:00.000Z")
    log.add_turn(c, "customer", "hello there")
    log.add_turn(c, "assistant", "Hi!", intent="greeting", confidence=0.99, source="ranker")
    log.add_turn(c, "customer", "promo SAVE10 fails")
    promo = log.add_turn(c, "assistant", "Try again.", intent="payment_failed", confidence=0.6)
    log.add_correction(promo, corrected_intent="promo_code")

    # 4. No customer turn: not a dialogue.
    d = log.new_conversation(started="2026-01-04T00:00:00.000Z")
    log.add_turn(d, "assistant", "Hello?")

    out = tmp_path / "export"
    counts = export_training_data(log, out)
    dialogues, rows = read_export(out)

    assert dialogues == [
        {
            "id": a,
            "turns": [
                {"role": "customer", "text": "where is NH-48213?", "intent": "order_status"},
                {"role": "agent", "text": "It shipped yesterday."},
                {"role": "customer", "text": "thanks"},
                {"role": "agent", "text": "You're welcome!"},
            ],
        },
        {
            "id": b,
            "turns": [
                {"role": "customer", "text": "my heating stopped", "intent": "thermostat_issue"},
                {"role": "customer", "text": "charged twice"},  # its reply was rated bad
                {"role": "agent", "text": "I've refunded the duplicate charge."},
                {"role": "customer", "text": "can I talk to someone?", "intent": "human_agent"},
                {"role": "agent", "text": "Hi, Ana here."},
            ],
        },
        {
            "id": c,
            "turns": [
                {"role": "customer", "text": "hello there", "intent": "greeting"},
                {"role": "agent", "text": "Hi!"},
                {"role": "customer", "text": "promo SAVE10 fails", "intent": "promo_code"},
                {"role": "agent", "text": "Try again."},
            ],
        },
    ]
    assert rows == [
        ["text", "label"],
        ["where is NH-48213?", "order_status"],
        ["my heating stopped", "thermostat_issue"],
        ["can I talk to someone?", "human_agent"],
        ["hello there", "greeting"],
        ["promo SAVE10 fails", "promo_code"],
    ]
    assert counts == {
        "dialogues": 3,
        "turns": 13,
        "labelled_turns": 5,
        "intent_rows": 5,
        "dropped_replies": 1,
        "corrected_replies": 1,
        "muted_replies": 1,
        "bot_messages": 0,
        "agent_replies": 2,  # the corrected reply and Ana's turn
    }


def test_confident_intent_is_not_a_label_when_the_reply_was_rated_bad(log, tmp_path):
    cid = log.new_conversation()
    log.add_turn(cid, "customer", "cancel it", intent="cancel_subscription", confidence=0.95)
    reply = log.add_turn(cid, "assistant", "Plus is cancelled.", source="ranker")
    log.add_feedback(reply, -1)
    counts = export_training_data(log, tmp_path)
    dialogues, rows = read_export(tmp_path)
    assert dialogues[0]["turns"] == [{"role": "customer", "text": "cancel it"}]
    assert rows == [["text", "label"]]
    assert counts["dropped_replies"] == 1 and counts["labelled_turns"] == 0


def test_export_deduplicates_intent_rows_and_replaces_files(log, tmp_path):
    for _ in range(2):
        cid = log.new_conversation()
        log.add_turn(cid, "customer", "hi", intent="greeting", confidence=0.99)
    (tmp_path / "dialogues.jsonl").write_text("old\n")
    counts = export_training_data(log, tmp_path)
    dialogues, rows = read_export(tmp_path)
    assert len(dialogues) == 2 and rows == [["text", "label"], ["hi", "greeting"]]
    assert counts["labelled_turns"] == 2 and counts["intent_rows"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dialogues.jsonl", "intents.csv"]


def test_export_of_an_empty_log_and_a_bad_threshold(log, tmp_path):
    counts = export_training_data(log, tmp_path / "new")
    assert counts["dialogues"] == 0
    assert read_export(tmp_path / "new") == ([], [["text", "label"]])
    with pytest.raises(ConfigError, match="1.5"):
        export_training_data(log, tmp_path, min_confidence=1.5)


def exchange(log, cid, message, answer, intent, confidence, **reply_fields) -> Reply:
    reply = Reply(
        reply=answer,
        source="ranker",
        reason="best reply scores 0.80 >= 0.55",
        conversation_id=cid,
        turn_id=new_id(),
        intent=intent,
        confidence=confidence,
        top_intents=[(intent, confidence)],
        candidates=[Candidate(answer, 0.8, [intent])],
        **reply_fields,
    )
    log.add_exchange(cid, message, reply)
    return reply


def test_round_trip_log_export_cli_then_the_training_loaders(tmp_path):
    """Turns written to a log, `assistant log export`, then training/data.py reads them back."""
    db = tmp_path / "conversations.db"
    with ConversationLog(db) as log:
        first = log.new_conversation(started="2026-01-01T00:00:00.000Z")
        exchange(log, first, "where is my refund", "Refunds take 5-10 days.", "refund_status", 0.96)
        bad = exchange(log, first, "it is late", "Here is your invoice.", "billing", 0.93)
        log.add_feedback(bad.turn_id, -1)
        exchange(log, first, "mail me at jo@example.com", "Done!", "update_email", 0.91)
        second = log.new_conversation(started="2026-01-02T00:00:00.000Z")
        handoff = exchange(
            log, second, "a person please", "Handing over.", "human_agent", 0.99, ticket_id="T-1"
        )
        log.add_turn(second, "customer", "hello?")  # while muted: no prediction
        log.add_turn(second, "agent", "Hi, Ana here. Which order?")
        log.add_correction(handoff.turn_id, corrected_intent="talk_to_agent", agent="ana")

    out = tmp_path / "retrain"
    res = CliRunner().invoke(cli, ["log", "export", "--db", str(db), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "labelled_turns: 3" in res.output and f"written to {out}" in res.output

    assert load_dialogues(out / "dialogues.jsonl") == [
        Dialogue(
            first,
            [
                Turn("customer", "where is my refund", "refund_status"),
                Turn("agent", "Refunds take 5-10 days."),
                Turn("customer", "it is late"),  # its reply was rated bad: no label, no reply
                Turn("customer", "mail me at [EMAIL]", "update_email"),  # stored redacted
                Turn("agent", "Done!"),
            ],
        ),
        Dialogue(
            second,
            [
                Turn("customer", "a person please", "talk_to_agent"),  # the agent's correction
                Turn("agent", "Handing over."),
                Turn("customer", "hello?"),
                Turn("agent", "Hi, Ana here. Which order?"),
            ],
        ),
    ]
    expected = [
        ("where is my refund", "refund_status"),
        ("mail me at [EMAIL]", "update_email"),
        ("a person please", "talk_to_agent"),
    ]
    from_csv = load_intent_examples(out / "intents.csv")
    assert [(e.text, e.label) for e in from_csv] == expected
    from_dialogues = load_intent_examples(out / "dialogues.jsonl")
    assert [(e.text, e.label, e.group) for e in from_dialogues] == [
        (*expected[0], first),
        (*expected[1], first),
        (*expected[2], second),
    ]
