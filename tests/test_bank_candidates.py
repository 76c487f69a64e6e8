"""assistant/bank.py: which bank replies the bot may send, save/load with provenance, old banks;
and the engine's candidate step (assistant/engine.py `_candidates`)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.bank import BankEntry, ResponseBank
from assistant.config import EngineConfig
from assistant.engine import DialogueEngine
from assistant.errors import ModelError
from assistant.grounding import Grounds
from assistant.intent import decide
from assistant.ranker import ResponseRanker
from assistant.review import Reviews


class StubIntent:
    oos_label = "oos"

    def __init__(self, probs: dict[str, float]):
        self.labels = sorted(probs)
        self.p = np.array([[probs[lab] for lab in self.labels]])

    def predict(self, texts, k=3):
        return decide(self.p, self.labels, "oos", 0.3, k)


class StubRanker:
    """Every context embeds as `vec`."""

    context_turns = 3
    context_text = ResponseRanker.context_text
    path = "/nonexistent"

    def __init__(self, vec):
        self.vec = vec

    def encode_contexts(self, texts):
        return np.stack([self.vec for _ in texts])


def bank_of(texts_and_kinds, scores):
    """A bank whose entry i scores scores[i] against the context vector e0."""
    n = len(scores)
    emb = np.zeros((n, n + 1), dtype=np.float32)
    for i, s in enumerate(scores):
        emb[i, 0], emb[i, i + 1] = s, np.sqrt(1 - s**2)
    entries = [BankEntry(t, 10, {"order_status": 10}, kind=k) for t, k in texts_and_kinds]
    return ResponseBank(entries, emb), np.eye(1, n + 1, dtype=np.float32)[0]


def test_agent_only_unfilled_and_ungrounded_replies_are_not_sendable():
    bank, ctx = bank_of(
        [
            ("Done — I've refunded order {order_number}.", "agent_only"),
            ("Ticket {ticket_number} has everything.", "needs_slots"),
            ("Your parcel went to 298 Maple Street.", "safe"),
            ("Could you share the order number, {name}?", "safe"),
        ],
        [0.95, 0.9, 0.85, 0.8],
    )
    cands = bank.candidates(ctx, {"order_number": "NH-12345"}, Grounds.of(["where is NH-12345"]))
    assert [c.sendable for c in cands] == [True, False, False, False]
    first = cands[0]
    assert first.text == "Could you share the order number?" and first.kind == "safe"
    notes = {c.entry_id: c.note for c in cands[1:]}
    assert notes[bank.entries[0].id].startswith("agent only")
    assert notes[bank.entries[1].id] == "a slot has no value in this conversation"
    assert notes[bank.entries[2].id] == "not grounded here: 298, Maple Street"
    # a suggestion shows the slot it lacks for the person who fills it in
    assert "[ticket number]" in next(c.text for c in cands if c.entry_id == bank.entries[1].id)
    assert not any("your ticket" in c.text for c in cands)


def test_reviewed_entries_approved_sendable_barred_gone(tmp_path):
    bank, ctx = bank_of(
        [("Chat is open 7am-10pm ET.", "agent_only"), ("Rude reply.", "safe")], [0.9, 0.8]
    )
    reviews = Reviews(tmp_path / "bank_reviews.json")
    reviews.decide(bank.entries[0], "approved", by="ana")
    reviews.decide(bank.entries[1], "barred", by="ana")
    reviews.apply(bank.entries)
    cands = bank.candidates(ctx, {}, Grounds())
    assert [(c.text, c.sendable) for c in cands] == [("Chat is open 7am-10pm ET.", True)]
    assert not bank.entries[0].agent_only and bank.entries[1].agent_only


def engine_with(bank, ctx, kb=None):
    return DialogueEngine(
        StubIntent({"order_status": 0.9, "oos": 0.1}), StubRanker(ctx), bank, kb, EngineConfig()
    )


def test_engine_sends_the_best_sendable_reply_never_an_agent_only_one():
    bank, ctx = bank_of(
        [
            ("I've updated the address on order {order_number}.", "agent_only"),
            ("Which order is it, {name}?", "safe"),
        ],
        [0.95, 0.7],
    )
    d = engine_with(bank, ctx).decide([("customer", "I'm Ana")], "change my address")
    assert d.source == "ranker" and d.reply == "Which order is it, Ana?"
    assert "0.70 >= 0.55" in d.reason
    assert [c.sendable for c in d.candidates] == [True, False]  # the agent's suggestion kept


def test_engine_does_not_answer_from_the_bank_when_nothing_is_sendable():
    bank, ctx = bank_of([("Your refund of $129.99 went out.", "safe")], [0.95])
    d = engine_with(bank, ctx).decide([], "where is my refund")
    assert d.source != "ranker" and "$129.99" not in d.reply
    assert d.candidates[0].note == "not grounded here: $129.99"
    # the same figure, written by this customer, may be repeated back
    d = engine_with(bank, ctx).decide([("customer", "I paid $129.99")], "where is my refund")
    assert d.source == "ranker" and d.reply == "Your refund of $129.99 went out."


def test_save_load_keeps_kind_provenance_and_status(tmp_path):
    e = BankEntry(
        "Could you share the order number?",
        7,
        {"order_status": 7},
        kind="safe",
        conversations=5,
        agents=2,
        examples=["c1", "c2"],
        status="approved",
    )
    bank = ResponseBank([e], np.ones((1, 3), dtype=np.float32))
    bank.save(tmp_path)
    back = ResponseBank.load(tmp_path, reviews=False)
    assert back.entries == [e]
    assert bank.manifest()["kinds"] == {"safe": 1}


def test_an_old_bank_loads_classified_and_normalised(tmp_path):
    rows = [
        {
            "text": "Hi {name},\n\nI've sent the label to {email}.\n\nBest regards,\nNimbus",
            "count": 4,
            "intents": {},
        },
        {"text": "Could you share the order number?", "count": 9, "intents": {"a": 9}},
    ]
    (tmp_path / "bank.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    np.save(tmp_path / "bank_embeddings.npy", np.ones((2, 3), dtype=np.float32))
    bank = ResponseBank.load(tmp_path)
    first, second = bank.entries
    assert first.text == "I've sent the label to {email}." and first.kind == "agent_only"
    assert second.kind == "safe" and second.conversations == 0 and second.agents is None
    assert first.status == "unreviewed" and len(first.id) == 12


def test_a_newer_bank_format_is_refused(tmp_path):
    from kb.manifest import write_manifest

    ResponseBank([BankEntry("Hi!", 1)], np.ones((1, 3), dtype=np.float32)).save(tmp_path)
    write_manifest(tmp_path, "ranker", bank={"format_version": 99})
    with pytest.raises(ModelError, match="bank format version 99 is newer"):
        ResponseBank.load(tmp_path)


def test_load_applies_the_review_file_beside_the_models(tmp_path):
    ranker = tmp_path / "models" / "ranker"
    bank = ResponseBank(
        [BankEntry("Could you share the order number?", 3)], np.ones((1, 3), dtype=np.float32)
    )
    bank.save(ranker)
    reviews = Reviews(tmp_path / "models" / "bank_reviews.json")
    reviews.decide(bank.entries[0], "edited", text="What's your order number (NH-...)?")
    reviews.save()
    back = ResponseBank.load(ranker)
    assert back.entries[0].text == "What's your order number (NH-...)?"
    assert back.entries[0].original == "Could you share the order number?"
    assert back.reviews_file == tmp_path / "models" / "bank_reviews.json"
    assert ResponseBank.load(ranker, reviews=False).entries[0].status == "unreviewed"


def test_agent_suggestions_keep_agent_only_entries_and_drop_barred_ones():
    from assistant.assist import assist

    bank, ctx = bank_of(
        [
            ("I've refunded order {order_number}.", "agent_only"),
            ("Rude reply.", "safe"),
            ("Anything else?", "safe"),
        ],
        [0.9, 0.8, 0.7],
    )
    bank.entries[1].status = "barred"

    class Ranker(StubRanker):
        def context_text(self, turns):
            return "ctx"

    engine = engine_with(bank, ctx)
    engine.ranker = Ranker(ctx)
    found = assist(engine, [("customer", "refund for NH-12345?")], k=3, kb_k=0)
    assert [(s.text, s.agent_only) for s in found.suggestions] == [
        ("I've refunded order NH-12345.", True),
        ("Anything else?", False),
    ]
