"""assistant/engine.py: the policy, with small deterministic stand-ins for the three models.

The models' quality is tested elsewhere; here each branch of the policy is driven by the
scores the stand-ins return, and the reason recorded with the reply is checked.
"""

from __future__ import annotations

import numpy as np
import pytest

from assistant.bank import BankEntry, ResponseBank
from assistant.config import EngineConfig
from assistant.engine import DialogueEngine
from assistant.errors import ConfigError
from assistant.intent import decide
from assistant.ranker import ResponseRanker
from kb import Passage


class StubIntent:
    oos_label = "oos"
    version = "intent:test"

    def __init__(self, probs: dict[str, float], threshold: float = 0.3):
        self.labels = sorted(probs)
        self.p = np.array([[probs[lab] for lab in self.labels]])
        self.threshold = threshold

    def predict(self, texts, k=3):
        return decide(self.p, self.labels, "oos", self.threshold, k)


class StubEncoder:
    def __init__(self, vec):
        self.vec = vec

    def encode(self, texts, **_):
        return np.stack([self.vec for _ in texts])


class StubRanker:
    context_turns = 3
    context_text = ResponseRanker.context_text  # the real context formatting
    version = "ranker:test"
    path = "/nonexistent"

    def __init__(self, vec):
        self.encoder = StubEncoder(vec)
        self.seen: list[str] = []

    def encode_contexts(self, texts):
        self.seen += texts
        return self.encoder.encode(texts)


def passage(score: float) -> Passage:
    return Passage(
        "billing/refunds",
        "Refunds",
        "How long refunds take",
        "billing/refunds.md",
        score,
        "Refunds reach your card 5-10 business days after we receive the item.",
    )


class StubKB:
    model_path = "/elsewhere"

    def __init__(self, score):
        self.score = score

    def search(self, text, k=5):
        return [passage(self.score)]


def bank(score_first: float) -> ResponseBank:
    # Embeddings chosen so that the context vector e0 scores `score_first` with entry 0.
    emb = np.array([[score_first, np.sqrt(1 - score_first**2)], [0.0, 1.0]], dtype=np.float32)
    return ResponseBank(
        [
            BankEntry(
                "Thanks, {name}! Could you share your order number?", 10, {"order_status": 10}
            ),
            BankEntry("Anything else?", 5, {}),
        ],
        emb,
    )


def engine(intent, reply_score=0.9, kb_score=0.2, **cfg):
    ctx = np.array([1.0, 0.0], dtype=np.float32)
    return DialogueEngine(
        StubIntent(intent),
        StubRanker(ctx),
        bank(reply_score),
        StubKB(kb_score),
        EngineConfig(**cfg),
    )


def test_confident_reply_from_bank_with_slots_filled():
    e = engine({"order_status": 0.9, "oos": 0.05, "refund_status": 0.05})
    d = e.decide([("customer", "hi I'm Ana")], "where is my order NH-12345?")
    assert d.source == "ranker"
    assert d.reply == "Thanks, Ana! Could you share your order number?"
    assert "0.90 >= 0.55" in d.reason
    assert (d.intent, d.confidence) == ("order_status", pytest.approx(0.9))
    assert [label for label, _ in d.top_intents] == ["order_status", "oos", "refund_status"]
    assert [c.text for c in d.candidates][1] == "Anything else?"


def test_context_holds_last_k_turns_newest_first():
    e = engine({"order_status": 0.9, "oos": 0.1})
    hist = [("customer", "t1"), ("agent", "t2"), ("customer", "t3"), ("agent", "t4")]
    e.decide(hist, "and how long does that take?")
    assert e.ranker.seen[-1] == "customer: and how long does that take? | agent: t4 | customer: t3"


def test_kb_answer_when_no_reply_fits():
    e = engine({"refund_status": 0.8, "oos": 0.2}, reply_score=0.3, kb_score=0.7)
    d = e.decide([], "how long do refunds take")
    assert d.source == "kb"
    assert "**Refunds › How long refunds take**" in d.reply and "5-10 business days" in d.reply
    assert d.citations == [passage(0.7)]  # the KB's own record, cited as it came


def test_out_of_scope_is_graceful_not_a_canned_reply():
    e = engine({"oos": 0.9, "order_status": 0.1}, reply_score=0.7, kb_score=0.5)
    d = e.decide([], "what's the weather in Paris")
    assert d.source == "oos" and d.reply == EngineConfig().oos_message
    assert not d.citations


def test_clarify_offers_two_closest_intents():
    e = engine({"refund_status": 0.4, "start_return": 0.35, "oos": 0.25}, reply_score=0.2)
    d = e.decide([], "about my money for the thing I sent")
    assert d.source == "clarify" and d.low_confidence
    assert "**refund status**" in d.reply and "**start return**" in d.reply


def test_handoff_on_request_always_human_and_streak():
    e = engine({"order_status": 0.9, "oos": 0.1})
    assert e.decide([], "can I talk to a real person please").handoff
    e2 = engine({"delete_account": 0.9, "oos": 0.1})
    d = e2.decide([], "close my account")
    assert d.handoff and "always-human" in d.reason
    e3 = engine({"a": 0.4, "b": 0.35, "oos": 0.25}, reply_score=0.1, handoff_after_low_turns=3)
    assert not e3.decide([], "hmm", low_streak=1).handoff
    d = e3.decide([], "hmm", low_streak=2)
    assert d.handoff and "3 unhelpful turns in a row" in d.reason


def test_config_validation_quotes_value(tmp_path):
    with pytest.raises(ConfigError, match="reply_threshold must be between -1 and 1, got 3"):
        EngineConfig(reply_threshold=3)
    f = tmp_path / "c.json"
    f.write_text('{"reply_treshold": 0.5}')
    with pytest.raises(ConfigError, match="unknown setting.*reply_treshold"):
        EngineConfig.from_file(f)
