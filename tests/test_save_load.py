"""Every artifact's `save` and `load` are inverses: intent classifier, ranker, response bank.

Built directly from the tiny random model (no training): what is saved is what loads back,
and the loaded object predicts / scores exactly as the saved one did.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.bank import BankEntry, ResponseBank
from assistant.errors import ModelError
from assistant.intent import IntentClassifier
from assistant.lexical import LexicalEncoder
from assistant.ranker import ResponseRanker
from kb.encoder import Encoder

TEXTS = ["where is my order", "camera offline", "thanks a lot", "refund not received"]
TURNS = [("customer", "where is my order"), ("agent", "Which order?"), ("customer", "NH-1")]


def _classifier(tiny_st_model, threshold: float = 0.3) -> IntentClassifier:
    import torch

    encoder = Encoder.load(tiny_st_model, max_length=32)
    gen = torch.Generator().manual_seed(0)
    labels = ["device_offline", "order_status", "oos", "refund_status"]
    weight = torch.randn(len(labels), encoder.dim, generator=gen)
    bias = torch.randn(len(labels), generator=gen)
    manifest = {
        "labels": labels,
        "oos_label": "oos",
        "threshold": threshold,
        "config": {"max_length": 32},
        "trained_at": "2026-01-01T00:00:00+00:00",
    }
    return IntentClassifier(encoder, weight, bias, manifest)


def test_intent_classifier_round_trip(tmp_path, tiny_st_model):
    clf = _classifier(tiny_st_model)
    manifest = clf.save(tmp_path / "intent")
    assert manifest["kind"] == "intent" and manifest["labels"] == clf.labels

    back = IntentClassifier.load(tmp_path / "intent", precision="fp32")
    assert back.labels == clf.labels and back.threshold == 0.3 and back.oos_label == "oos"
    assert back.version == clf.version
    assert back.encoder.max_length == 32
    assert np.allclose(back.probs(TEXTS), clf.probs(TEXTS), atol=1e-6)
    # loaded on the onnx backend: the same predictions, probabilities within float rounding
    assert [(p.label, [t[0] for t in p.top]) for p in back.predict(TEXTS)] == [
        (p.label, [t[0] for t in p.top]) for p in clf.predict(TEXTS)
    ]


def test_intent_classifier_saved_twice_is_the_same(tmp_path, tiny_st_model):
    clf = _classifier(tiny_st_model)
    clf.save(tmp_path / "a")
    IntentClassifier.load(tmp_path / "a", precision="fp32").save(tmp_path / "b")
    for name in ("model.safetensors", "head.safetensors", "sentence_bert_config.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def _lexical(buckets: int = 64, dim: int = 8) -> LexicalEncoder:
    rng = np.random.default_rng(0)
    tables = [rng.normal(size=(buckets, dim)).astype(np.float16) for _ in range(2)]
    return LexicalEncoder(*tables)


@pytest.mark.parametrize("with_lexical", [True, False])
def test_ranker_round_trip(tmp_path, tiny_st_model, with_lexical):
    config = {"context_turns": 2, "max_context_length": 24, "max_reply_length": 16}
    lexical = _lexical() if with_lexical else None
    ranker = ResponseRanker(
        Encoder.load(tiny_st_model),
        {"config": config, "lexical_weight": 0.3, "trained_at": "t"},
        lexical=lexical,
    )
    manifest = ranker.save(tmp_path / "r")
    assert manifest["kind"] == "ranker"
    assert manifest["lexical_weight"] == (0.3 if with_lexical else 0.0)
    assert (tmp_path / "r" / "lexical.json").exists() == with_lexical

    back = ResponseRanker.load(tmp_path / "r", precision="fp32")
    assert (back.lexical is None) == (not with_lexical)
    assert back.lexical_weight == ranker.lexical_weight
    assert (back.context_turns, back.max_context_length, back.max_reply_length) == (2, 24, 16)
    ctx = back.context_text(TURNS)
    assert ctx == ranker.context_text(TURNS)
    assert np.allclose(back.encode_contexts([ctx]), ranker.encode_contexts([ctx]), atol=1e-6)
    assert np.allclose(back.encode_replies(TEXTS), ranker.encode_replies(TEXTS), atol=1e-6)
    assert np.allclose(back.score(TURNS, TEXTS), ranker.score(TURNS, TEXTS), atol=1e-6)


def test_bank_round_trip_with_the_rankers_embeddings(tmp_path, tiny_st_model):
    ranker = ResponseRanker(
        Encoder.load(tiny_st_model),
        {"config": {"max_reply_length": 16}, "lexical_weight": 0.5},
        lexical=_lexical(),
    )
    entries = [
        BankEntry("Could you share your order number, {name}?", 3, {"order_status": 3}),
        BankEntry("You're welcome!", 7, {}),
    ]
    bank = ResponseBank.embed(entries, ranker)
    assert np.allclose(bank.embeddings, ranker.encode_replies([e.text for e in entries]))
    bank.save(tmp_path / "r")

    back = ResponseBank.load(tmp_path / "r")
    assert back.entries == entries
    assert back.embeddings.dtype == np.float32
    assert np.array_equal(back.embeddings, bank.embeddings)
    ctx = ranker.encode_contexts(["customer: where is my order"])[0]
    assert back.top(ctx, k=2) == bank.top(ctx, k=2)
    line = json.loads((tmp_path / "r" / "bank.jsonl").read_text().splitlines()[0])
    assert {k: line[k] for k in ("text", "count", "intents", "kind")} == {
        "text": entries[0].text,
        "count": 3,
        "intents": {"order_status": 3},
        "kind": "safe",
    }


def test_bank_rows_must_match_entries():
    with pytest.raises(ModelError, match="2 bank embeddings for 1 entries"):
        ResponseBank([BankEntry("a", 1)], np.zeros((2, 4), dtype=np.float32))
