"""assistant/encoder.py: precision of loaded models."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.encoder import Encoder, bf16_supported
from assistant.errors import ModelError


def test_bf16_weights_give_nearly_the_same_embeddings(tiny_st_model):
    texts = ["where is my order", "my camera is offline and the light blinks red"]
    fp32 = Encoder(tiny_st_model, precision="fp32")
    bf16 = Encoder(tiny_st_model, precision="bf16")
    assert fp32.precision == "fp32" and bf16.precision == "bf16"
    import torch

    assert next(bf16.model.parameters()).dtype == torch.bfloat16
    a, b = fp32.encode(texts), bf16.encode(texts)
    assert a.dtype == b.dtype == np.float32
    assert ((a * b).sum(axis=1) > 0.99).all()


def test_auto_follows_the_cpu_and_the_environment(tiny_st_model, monkeypatch):
    monkeypatch.delenv("ASSISTANT_PRECISION", raising=False)
    enc = Encoder(tiny_st_model, precision="auto")
    assert enc.precision == ("bf16" if bf16_supported() else "fp32")
    monkeypatch.setenv("ASSISTANT_PRECISION", "fp32")
    assert Encoder(tiny_st_model, precision="auto").precision == "fp32"
    monkeypatch.setenv("ASSISTANT_PRECISION", "fp16")
    with pytest.raises(ModelError, match="ASSISTANT_PRECISION must be fp32 or bf16, got 'fp16'"):
        Encoder(tiny_st_model, precision="auto")
    with pytest.raises(ModelError, match="precision must be auto, fp32 or bf16"):
        Encoder(tiny_st_model, precision="int8")
