"""The passage encoder: token-length batching and the forked worker processes."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

import kb.encoder as kb_encoder
from kb.encoder import Encoder


@pytest.fixture(scope="module")
def encoder(tiny_st_model) -> Encoder:
    return Encoder.load(tiny_st_model, "fp32")


def _texts(n: int, seed: int = 0) -> list[str]:
    """Texts of 1 to 60 words, so batches mix very different token lengths."""
    rng = random.Random(seed)
    words = "refund order parcel invoice doorbell thermostat battery reset password".split()
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 60))) for _ in range(n)]


def test_batching_does_not_change_embeddings(encoder):
    texts = _texts(70)
    together = encoder.encode(texts, batch_size=8)
    alone = np.stack([encoder.encode([t])[0] for t in texts])
    assert together.shape == (70, encoder.dim) and together.dtype == np.float32
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_batches_are_cut_to_their_longest_text(encoder, monkeypatch):
    widths = []
    forward = encoder.model.forward

    def spy(**features):
        widths.append(features["input_ids"].shape[1])
        return forward(**features)

    monkeypatch.setattr(encoder.model, "forward", spy)
    texts = ["short"] * 8 + [" ".join(["word"] * 50)] * 8
    encoder.encode(texts, batch_size=8)
    assert sorted(widths) == [3, 52]  # [CLS] short [SEP], and 50 words + 2 special tokens


def test_left_padded_features_keep_their_width():
    mask = torch.tensor([[0, 0, 1, 1], [0, 1, 1, 1], [1, 1, 1, 1]])
    features = {"input_ids": mask * 7, "attention_mask": mask, "text_keys": ["a"]}
    batch = kb_encoder._select(features, torch.tensor([0, 1]), 3, 3)
    assert batch["input_ids"].shape == (2, 4)  # cutting at 3 would drop real tokens
    assert batch["text_keys"] == ["a"]
    right = {"input_ids": mask.flip(1), "attention_mask": mask.flip(1)}
    assert kb_encoder._select(right, torch.tensor([0, 1]), 3, 3)["input_ids"].shape == (2, 3)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers: Linux only")
def test_forked_workers_give_the_same_embeddings(encoder, monkeypatch):
    calls = []
    forked = kb_encoder._encode_forked

    def spy(*args):
        calls.append(args[2])
        yield from forked(*args)

    monkeypatch.setattr(kb_encoder, "_encode_forked", spy)
    monkeypatch.setattr(kb_encoder, "PARALLEL_MIN_TEXTS", 50)
    texts = _texts(300, seed=1)

    class Bar:
        n = 0

        def update(self, k):
            self.n += k

    bar = Bar()
    parallel = encoder.encode(texts, batch_size=8, progress=bar, processes=2)
    assert calls == [2]  # the pool ran, with two workers
    assert bar.n == 300
    np.testing.assert_allclose(parallel, encoder.encode(texts, batch_size=8), atol=1e-6)
    assert kb_encoder._FORKED_ENCODER is None


def test_few_texts_stay_in_this_process(encoder, monkeypatch):
    def fail(*args):
        raise AssertionError("forked for a handful of texts")

    monkeypatch.setattr(kb_encoder, "_encode_forked", fail)
    assert encoder.encode(_texts(20), processes=2).shape == (20, encoder.dim)


def test_empty_input(encoder):
    assert encoder.encode([], processes=2).shape == (0, encoder.dim)


def test_chunked_attention_embeds_as_the_default_attention(tiny_st_model):
    chunked = Encoder.load(tiny_st_model, "fp32", chunked_attention=True)
    assert chunked.attention == "chunked"
    config = chunked.model.config
    assert config._attn_implementation == kb_encoder.CHUNKED_ATTENTION
    texts = _texts(40, seed=2)  # padded batches of very different lengths: the mask matters
    default = Encoder.load(tiny_st_model, "fp32")
    assert default.attention == "default"
    np.testing.assert_allclose(
        chunked.encode(texts, batch_size=8), default.encode(texts, batch_size=8), atol=1e-5
    )


def test_inference_threads_cap_numpy_blas_and_openmp_pools():
    """The service's one inference thread caps numpy's BLAS and OpenMP (faiss) too: their
    default pools spin on the cores the next encode needs (see `limit_native_pools`)."""
    code = (
        "import json, numpy, faiss\n"
        "from threadpoolctl import threadpool_info\n"
        "before = {i['user_api'] for i in threadpool_info() if i['num_threads'] > 1}\n"
        "from kb.encoder import set_inference_threads\n"
        "set_inference_threads(1)\n"
        "after = [(i['user_api'], i['num_threads']) for i in threadpool_info()]\n"
        "set_inference_threads(None)\n"
        "back = {i['user_api'] for i in threadpool_info() if i['num_threads'] > 1}\n"
        "print(json.dumps({'before': sorted(before), 'after': after, 'back': sorted(back)}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"},
    )
    result = json.loads(out.stdout)
    assert "blas" in result["before"]  # two threads before: the cap has something to do
    assert result["after"] and all(n == 1 for _, n in result["after"])
    assert {api for api, _ in result["after"]} >= {"blas", "openmp"}
    assert result["back"] == result["before"]  # None gives the pools their sizes back


def test_batch_encoder_is_torch_unless_onnx_is_forced(tiny_st_model, monkeypatch):
    """Many texts at once (the replay's judge) go to torch, the faster backend on batches, and
    need no ONNX export; ASSISTANT_BACKEND=onnx still forces ONNX Runtime."""
    from kb.onnx_backend import OnnxEncoder, ensure_export

    monkeypatch.delenv(kb_encoder.BACKEND_ENV, raising=False)
    before = torch.get_num_threads()
    try:
        with kb_encoder.batch_inference():
            enc = kb_encoder.load_encoder(tiny_st_model, threads=1)
        assert isinstance(enc, Encoder) and enc.backend == "torch"
        assert enc.attention == "chunked" and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    ensure_export(tiny_st_model)
    monkeypatch.setenv(kb_encoder.BACKEND_ENV, "onnx")
    with kb_encoder.batch_inference():
        forced = kb_encoder.load_encoder(tiny_st_model)
    assert isinstance(forced, OnnxEncoder)
    texts = _texts(12, seed=3)  # torch computes in bf16 where the CPU has it: close, not equal
    assert float((forced.encode(texts) * enc.encode(texts)).sum(1).min()) >= 0.999


def test_batch_inference_makes_auto_the_batch_backend(monkeypatch):
    monkeypatch.delenv(kb_encoder.BACKEND_ENV, raising=False)
    monkeypatch.delenv(kb_encoder.PRECISION_ENV, raising=False)
    assert kb_encoder.resolve_backend() == "onnx"  # one message at a time: ONNX Runtime
    with kb_encoder.batch_inference():
        assert kb_encoder.resolve_backend() == "torch"
        assert kb_encoder.resolve_backend("onnx") == "onnx"  # an explicit choice stands
        monkeypatch.setenv(kb_encoder.BACKEND_ENV, "onnx")
        assert kb_encoder.resolve_backend() == "onnx"  # and so does the environment's
    monkeypatch.delenv(kb_encoder.BACKEND_ENV)
    assert kb_encoder.resolve_backend() == "onnx"
