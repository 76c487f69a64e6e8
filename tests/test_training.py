"""training/intent.py, training/ranker.py and the runtime loaders, with a tiny random model.

Quality does not matter here (see tests/test_e2e.py): these check the plumbing — artifacts,
manifests, save/load round trips, atomic output.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.bank import ResponseBank
from assistant.errors import DataError, ModelError
from assistant.intent import IntentClassifier
from assistant.ranker import ResponseRanker
from training.intent import IntentTrainConfig, train_intent


def test_intent_artifacts(intent_dir):
    names = {p.name for p in intent_dir.iterdir()}
    assert {
        "model.safetensors",
        "head.safetensors",
        "manifest.json",
        "metrics.json",
        "per_intent.csv",
        "confusion.png",
        "confused_pairs.json",
        "modules.json",
        "tokenizer.json",
    } <= names
    assert not any(n.endswith(".bin") for n in names)
    m = json.loads((intent_dir / "manifest.json").read_text())
    assert m["kind"] == "intent" and m["format_version"] == 1
    assert m["labels"] == ["device_offline", "order_status", "refund_status", "thanks"]
    for key in (
        "base_model",
        "threshold",
        "config",
        "data_fingerprint",
        "metrics",
        "libraries",
        "train_time_s",
        "trained_at",
    ):
        assert key in m
    assert m["metrics"]["probe_validation"]["n"] > 0
    assert (intent_dir / "confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_intent_round_trip_matches_training_head(intent_dir):
    clf = IntentClassifier.load(intent_dir)
    preds = clf.predict(["where is my order", "camera offline", "thanks"], k=3)
    assert len(preds) == 3 and all(len(p.top) == 3 for p in preds)
    assert all(abs(sum(clf.probs(["hi"])[0]) - 1) < 1e-5 for _ in range(1))
    again = IntentClassifier.load(intent_dir).probs(["where is my order"])
    assert np.allclose(clf.probs(["where is my order"]), again)


def test_sentence_transformers_loads_the_encoder(intent_dir):
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(intent_dir), device="cpu")
    ours = IntentClassifier.load(intent_dir, precision="fp32").encoder.encode(["where is my order"])
    theirs = st.encode(["where is my order"], normalize_embeddings=True)
    assert np.allclose(ours, theirs, atol=1e-4)


def test_ranker_artifacts_and_bank(ranker_dir):
    m = json.loads((ranker_dir / "manifest.json").read_text())
    assert m["kind"] == "ranker" and m["config"]["context_turns"] == 3
    bank = ResponseBank.load(ranker_dir)
    texts = [e.text for e in bank.entries]
    assert "Could you share your order number, {name}?" in texts
    # transformer (32) and lexical (16) parts, fused into one unit vector per reply
    assert bank.embeddings.shape == (len(bank), 32 + 16)
    assert np.allclose(np.linalg.norm(bank.embeddings, axis=1), 1.0, atol=1e-3)
    r = ResponseRanker.load(ranker_dir, precision="fp32")  # the bank is embedded in fp32
    assert r.lexical is not None and 0.0 <= r.lexical_weight <= 1.0
    assert m["lexical_weight"] == r.lexical_weight
    s = r.score([("customer", "where is my order")], ["a", "b", "c"])
    assert s.shape == (3,) and np.all(np.abs(s) <= 1.0001)
    # the bank was embedded exactly as the loaded ranker embeds replies
    assert np.allclose(r.encode_replies(texts[:3]), bank.embeddings[:3], atol=1e-4)
    # the transformer's own part is what a KB built with this encoder is searched with
    ctx = r.encode_contexts(["customer: where is my order"])
    dense = r.encoder.encode(["customer: where is my order"], max_length=r.max_context_length)
    assert np.allclose(r.dense_part(ctx), dense, atol=1e-5)


def test_ranker_without_lexical_towers(tmp_path, dialogues, tiny_st_model):
    from training.ranker import RankerTrainConfig, train_ranker

    out = tmp_path / "dense"
    train_ranker(
        RankerTrainConfig(
            data=str(dialogues),
            out=str(out),
            epochs=0,
            lexical=False,
            base_model=str(tiny_st_model),
            batch_size=8,
            val_samples=20,
        ),
        log=lambda m: None,
    )
    r = ResponseRanker.load(out)
    assert r.lexical is None and r.lexical_weight == 0.0
    assert not (out / "lexical.json").exists()
    assert ResponseBank.load(out).embeddings.shape[1] == 32


def test_wrong_kind_and_missing_dir(intent_dir, ranker_dir, tmp_path):
    with pytest.raises(ModelError, match="is a 'ranker' model, expected 'intent'"):
        IntentClassifier.load(ranker_dir)
    with pytest.raises(ModelError, match="no such model directory"):
        IntentClassifier.load(tmp_path / "nope")


def test_failed_training_writes_nothing(tmp_path, tiny_st_model):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhi,a\nhello,a\n")
    out = tmp_path / "out"
    with pytest.raises(DataError):
        train_intent(IntentTrainConfig(data=str(bad), out=str(out), base_model=str(tiny_st_model)))
    assert not out.exists() and not (tmp_path / "out.partial").exists()


def test_lexical_towers_that_do_not_help_are_not_kept(
    tmp_path, dialogues, tiny_st_model, monkeypatch
):
    import training.ranker as tr

    no_help = (0.0, {"recall_at_1": 0.0, "n": 0})
    monkeypatch.setattr(tr, "choose_lexical_weight", lambda dense, lex, tasks: no_help)
    out = tmp_path / "r"
    tr.train_ranker(
        tr.RankerTrainConfig(
            data=str(dialogues),
            out=str(out),
            epochs=0,
            base_model=str(tiny_st_model),
            batch_size=8,
            val_samples=20,
            lexical_buckets=1 << 10,
            lexical_dim=8,
        ),
        log=lambda m: None,
    )
    assert not (out / "lexical.json").exists()
    r = ResponseRanker.load(out)
    assert r.lexical is None and r.lexical_weight == 0.0
