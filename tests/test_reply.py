"""assistant/reply.py: one record from the engine's decision to `ask --json`."""

from __future__ import annotations

import json
from dataclasses import fields

from assistant.reply import Candidate, Citation, Decision, Reply
from kb import Passage

ASK_JSON_KEYS = [
    "reply",
    "source",
    "intent",
    "confidence",
    "citations",
    "candidates",
    "latency_ms",
    "conversation_id",
    "reason",
    "top_intents",
    "ticket_id",
    "turn_id",  # the customer's logged turn
    "reply_turn_id",  # the reply's logged turn
]
CITATION_KEYS = {"article_id", "title", "section", "source", "score", "text"}


def decision() -> Decision:
    return Decision(
        "Your ticket is {ticket_id}.",
        "handoff",
        "customer asked for a human",
        intent="human",
        confidence=0.91234567,
        top_intents=[("human", 0.91234567), ("oos", 0.05)],
        candidates=[Candidate("Anything else?", 0.4, ["greeting"])],
        citations=[Passage("a/b", "Fees", "Late", "a/b.md", 0.61, "A fee applies.")],
        handoff=True,
    )


def test_a_citation_is_the_kb_passage_record():
    assert Citation is Passage


def test_delivered_carries_every_decision_field():
    d = decision()
    r = Reply.delivered(d, "c1", "t1", reply="Your ticket is T-1.", ticket_id="T-1")
    for f in fields(Decision):
        if f.name != "reply":
            assert getattr(r, f.name) == getattr(d, f.name), f.name
    assert (r.reply, r.ticket_id, r.conversation_id, r.turn_id) == (
        "Your ticket is T-1.",
        "T-1",
        "c1",
        "t1",
    )
    assert d.reply == "Your ticket is {ticket_id}."  # the decision is not changed


def test_ask_json_keys_and_citation_shape_are_the_contract():
    r = Reply.delivered(decision(), "c1", "t1", latency_ms=12.3456)
    out = json.loads(json.dumps(r.to_json()))
    assert list(out) == ASK_JSON_KEYS
    assert set(out["citations"][0]) == CITATION_KEYS
    assert Passage.from_dict(out["citations"][0]) == r.citations[0]
    assert out["confidence"] == 0.9123 and out["latency_ms"] == 12.35
    assert out["top_intents"] == [["human", 0.9123], ["oos", 0.05]]
    # the keys of a candidate are a contract too: these stay, more may be added
    assert out["candidates"] == [
        {
            "text": "Anything else?",
            "score": 0.4,
            "intents": ["greeting"],
            "kind": "safe",
            "sendable": True,
            "note": "",
            "entry_id": "",
        }
    ]
    assert (out["turn_id"], out["reply_turn_id"]) == (None, "t1")  # no customer turn given
    both = Reply.delivered(decision(), "c1", "t1", message_turn_id="m1").to_json()
    assert (both["turn_id"], both["reply_turn_id"]) == ("m1", "t1")


def test_reply_without_a_decision_keeps_its_short_form():
    r = Reply("", "muted", "handed off: waiting for an agent", "c1", "")
    assert r.to_json()["citations"] == [] and r.intent is None and not r.handoff
