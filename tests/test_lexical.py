"""assistant/lexical.py and training/lexical.py: features, encoding, training, files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.errors import ModelError
from assistant.lexical import LexicalEncoder, context_features, reply_features
from training.lexical import LexicalTrainConfig, train_lexical

B = 1 << 12


def test_context_features_tag_position_and_role():
    newest_only = context_features("customer: refund please", B)
    with_history = context_features("customer: refund please | agent: Which order?", B)
    assert with_history[: len(newest_only)] == newest_only  # newest turn first, same features
    assert len(with_history) > len(newest_only)
    # the same words in an older turn are different features
    older = context_features("customer: hi | customer: refund please", B)
    assert set(older[-3:]).isdisjoint(newest_only[:3])
    assert context_features("", B) == [0] and reply_features("...", B) != [0]


def test_encoders_return_unit_vectors():
    rng = np.random.default_rng(0)
    lex = LexicalEncoder(
        rng.normal(size=(B, 8)).astype(np.float16), rng.normal(size=(B, 8)).astype(np.float16)
    )
    c = lex.encode_contexts(["customer: where is my parcel", "customer: "])
    r = lex.encode_replies(["It ships today.", "Bye!"])
    assert c.shape == r.shape == (2, 8) and c.dtype == np.float32
    assert np.allclose(np.linalg.norm(c, axis=1), 1.0, atol=1e-5)


PAIRS = [
    ("customer: where is my parcel", "Your parcel is on its way."),
    ("customer: I want a refund", "Refunds take five days."),
    ("customer: reset my password", "Use the reset link we emailed."),
    ("customer: my camera is offline", "Restart the camera and check Wi-Fi."),
] * 16


def test_training_learns_the_pairs(tmp_path):
    lex = train_lexical(
        [c for c, _ in PAIRS],
        [r for _, r in PAIRS],
        LexicalTrainConfig(buckets=B, dim=16, epochs=20, batch_size=4),
        log=lambda m: None,
    )
    contexts, replies = [c for c, _ in PAIRS[:4]], [r for _, r in PAIRS[:4]]
    scores = lex.encode_contexts(contexts) @ lex.encode_replies(replies).T
    assert (scores.argmax(axis=1) == np.arange(4)).all()
    lex.save(tmp_path)
    back = LexicalEncoder.load(tmp_path)
    assert np.allclose(back.encode_contexts(contexts), lex.encode_contexts(contexts))
    assert json.loads((tmp_path / "lexical.json").read_text())["buckets"] == B


def test_missing_towers_mean_none_and_damage_is_reported(tmp_path):
    assert LexicalEncoder.load(tmp_path) is None
    lex = LexicalEncoder(np.zeros((B, 4), np.float16), np.zeros((B, 4), np.float16))
    lex.save(tmp_path)
    (tmp_path / "lexical_reply.npy").unlink()
    missing = "lexical_reply.npy is missing from the ranker model: retrain"
    with pytest.raises(ModelError, match=missing):
        LexicalEncoder.load(tmp_path)
    lex.save(tmp_path)
    (tmp_path / "lexical.json").write_text(
        json.dumps({"format_version": 1, "buckets": 8, "dim": 4})
    )
    with pytest.raises(ModelError, match=r"shape \(4096, 4\), but .*lexical.json says \(8, 4\)"):
        LexicalEncoder.load(tmp_path)
