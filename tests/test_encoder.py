"""kb/encoder.py: the one sentence encoder, its precision policy and its model layout."""

from __future__ import annotations

import json
import shutil
from importlib.resources import files

import numpy as np
import pytest

from kb.encoder import Encoder, TextEncoder, cpu_has_bf16, load_encoder, resolve_precision
from kb.errors import ConfigError, ModelError

TEXTS = ["where is my order", "my camera is offline and the light blinks red", "  Refund?  "]


def test_bf16_weights_give_nearly_the_same_embeddings(tiny_st_model):
    fp32 = Encoder.load(tiny_st_model, precision="fp32")
    bf16 = Encoder.load(tiny_st_model, precision="bf16")
    assert fp32.precision == "fp32" and bf16.precision == "bf16"
    import torch

    assert next(bf16.model.parameters()).dtype == torch.bfloat16
    a, b = fp32.encode(TEXTS), bf16.encode(TEXTS)
    assert a.dtype == b.dtype == np.float32
    assert ((a * b).sum(axis=1) > 0.99).all()
    autocast = fp32.encode(TEXTS, autocast=True)
    assert ((a * autocast).sum(axis=1) > 0.99).all() and not np.array_equal(a, autocast)


def test_one_precision_policy_for_every_encoder(monkeypatch):
    monkeypatch.delenv("ASSISTANT_PRECISION", raising=False)
    assert resolve_precision("auto") == ("bf16" if cpu_has_bf16() else "fp32")
    monkeypatch.setenv("ASSISTANT_PRECISION", "fp32")
    assert resolve_precision("auto") == "fp32"
    monkeypatch.setenv("ASSISTANT_PRECISION", "BF16")
    assert resolve_precision("auto") == "bf16"
    assert resolve_precision("fp32") == "fp32"  # an explicit choice wins over the environment
    monkeypatch.setenv("ASSISTANT_PRECISION", "fp16")
    with pytest.raises(ConfigError, match="ASSISTANT_PRECISION must be fp32 or bf16, got 'fp16'"):
        resolve_precision("auto")
    with pytest.raises(ConfigError, match="precision must be auto, fp32, bf16, autocast"):
        resolve_precision("int8")


def test_the_environment_reaches_the_knowledge_base_build(monkeypatch, tiny_st_model, tmp_path):
    from kb import BuildConfig, build_index

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Refunds\n\nRefunds take five days.\n")
    monkeypatch.setenv("ASSISTANT_PRECISION", "bf16")
    config = BuildConfig(model_path=str(tiny_st_model), show_progress=False, workers=1)
    build_index(docs, tmp_path / "index", config)
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["embedding"]["precision"] == "bf16"


def test_load_encoder_gives_the_inference_interface(tiny_st_model):
    encoder: TextEncoder = load_encoder(tiny_st_model, precision="fp32", max_length=16)
    assert encoder.dim == 32 and encoder.max_length == 16
    emb = encoder.encode(TEXTS)
    assert emb.shape == (3, 32) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, 32)


def test_surrounding_whitespace_does_not_count(tiny_st_model):
    encoder = Encoder.load(tiny_st_model)
    np.testing.assert_allclose(encoder.encode(["  Refund?  "]), encoder.encode(["Refund?"]))


def test_embed_keeps_gradients_for_training(tiny_st_model):
    encoder = Encoder.load(tiny_st_model)
    out = encoder.embed(encoder.tokenize(TEXTS))
    assert out.shape == (3, 32) and out.requires_grad
    out.sum().backward()
    assert encoder.model.embeddings.word_embeddings.weight.grad is not None


@pytest.mark.parametrize("mode", ["cls", "max", "mean_sqrt_len_tokens", "lasttoken"])
def test_pooling_modes_match_sentence_transformers(tiny_st_model, tmp_path, mode):
    from sentence_transformers import SentenceTransformer

    model = tmp_path / "m"
    shutil.copytree(tiny_st_model, model)
    (model / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": 32, "pooling_mode": mode})
    )
    ours = Encoder.load(model).encode(TEXTS, batch_size=2)
    theirs = SentenceTransformer(str(model), device="cpu").encode(TEXTS, normalize_embeddings=True)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_unsupported_layouts_are_refused(tiny_st_model, tmp_path):
    model = tmp_path / "m"
    shutil.copytree(tiny_st_model, model)
    modules = json.loads((model / "modules.json").read_text())
    modules.append({"idx": 3, "name": "3", "path": "3_Dense", "type": "x.models.Dense"})
    (model / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(ModelError, match="module 'x.models.Dense' is not supported"):
        Encoder.load(model)
    (model / "modules.json").write_text(json.dumps(modules[:-1]))
    (model / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode": "weightedmean"}))
    with pytest.raises(ModelError, match="pooling mode 'weightedmean' is not supported"):
        Encoder.load(model)
    shutil.copy(tiny_st_model / "1_Pooling" / "config.json", model / "1_Pooling" / "config.json")
    (model / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="no .safetensors weights"):
        Encoder.load(model)
    with pytest.raises(ModelError, match="no config.json"):
        Encoder.load(tmp_path / "nowhere")


def test_save_round_trip_loads_here_and_in_sentence_transformers(tiny_st_model, tmp_path):
    from sentence_transformers import SentenceTransformer

    encoder = Encoder.load(tiny_st_model)
    encoder.save(tmp_path / "saved", max_length=24)
    again = Encoder.load(tmp_path / "saved")
    assert again.max_length == 24 and again.pooling == ("mean",)
    np.testing.assert_allclose(again.encode(TEXTS), encoder.encode(TEXTS, max_length=24), atol=1e-6)
    st = SentenceTransformer(str(tmp_path / "saved"), device="cpu")
    np.testing.assert_allclose(
        st.encode(TEXTS, normalize_embeddings=True), again.encode(TEXTS), atol=1e-5
    )


def _demo_texts(n: int) -> list[str]:
    """Customer and agent turns of the demo's test dialogues, and KB article openings."""
    data = files("assistant") / "demo_data"
    texts = []
    for line in (data / "dialogues_test.jsonl").read_text().splitlines():
        texts += [t["text"] for t in json.loads(line)["turns"][:2]]
    articles = sorted(p for p in (data / "kb").iterdir() if p.is_dir())
    for folder in articles:
        texts += [p.read_text()[:1200] for p in sorted(folder.iterdir()) if p.suffix == ".md"]
    return texts[: n - 60] + texts[-60:]


@pytest.mark.e2e
def test_the_bundled_model_embeds_as_sentence_transformers_does():
    """The knowledge base embedded with sentence-transformers before this encoder existed:
    on 400 demo texts (messages, replies, articles) the embeddings agree to cos >= 0.9999."""
    from sentence_transformers import SentenceTransformer

    texts = _demo_texts(400)
    encoder = Encoder.load(None, precision="fp32", chunked_attention=True)
    ours = encoder.encode(texts, batch_size=32)
    st = SentenceTransformer(str(encoder.path), device="cpu")
    theirs = st.encode(texts, batch_size=32, normalize_embeddings=True)
    assert ours.shape == theirs.shape == (400, 384)
    assert float((ours * theirs).sum(axis=1).min()) >= 0.9999
