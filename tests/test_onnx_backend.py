"""kb/onnx_backend.py: the export matches torch, the encoder answers without torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kb.errors import ModelError
from kb.onnx_backend import (
    ONNX_DIR,
    OnnxEncoder,
    ensure_export,
    export_onnx,
    export_status,
    find_export,
    pool,
)

TEXTS = [
    "where is my order?",
    "  Hello there,\n\nmy thermostat stopped responding after 16 months. Thanks, Lina  ",
    "refund",
    "é ü 日本語 🙂 NH-95413",
    "",
    "word " * 400,  # longer than any limit: truncated
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory, tiny_st_model) -> Path:
    """A copy of the tiny model with its ONNX export."""
    path = tmp_path_factory.mktemp("onnx") / "model"
    shutil.copytree(tiny_st_model, path)
    export_onnx(path, in_place=True)
    return path


def test_export_writes_the_sentence_transformers_onnx_folder(exported):
    assert (exported / ONNX_DIR / "model.onnx").is_file()
    info = json.loads((exported / ONNX_DIR / "export.json").read_text())
    assert info["inputs"][:2] == ["input_ids", "attention_mask"]
    assert export_status(exported) == "current"
    assert find_export(exported) == exported / ONNX_DIR / "model.onnx"


def test_the_weights_sit_beside_the_graph_with_their_checksums(exported):
    """External data: the graph is small, the weights are read as they are at load."""
    folder = exported / ONNX_DIR
    info = json.loads((folder / "export.json").read_text())
    assert sorted(info["files"]) == ["model.onnx", "model.onnx.data"]
    for name, entry in info["files"].items():
        assert (folder / name).stat().st_size == entry["size"]
    assert info["files"]["model.onnx.data"]["size"] > 20 * info["files"]["model.onnx"]["size"]
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no leftovers


def test_a_damaged_or_missing_weights_file_of_the_export_is_named(exported, tmp_path, monkeypatch):
    monkeypatch.delenv("ASSISTANT_VERIFY", raising=False)
    path = tmp_path / "model"
    shutil.copytree(exported, path)
    data = path / ONNX_DIR / "model.onnx.data"
    OnnxEncoder.load(path, export=False)  # verified once
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # same size: only the checksum can tell
    data.write_bytes(bytes(raw))
    with pytest.raises(ModelError, match=r"model\.onnx\.data is damaged.*kb\.onnx_backend export"):
        OnnxEncoder.load(path, export=False)
    data.unlink()
    assert export_status(path) == "stale"  # made again on first use


def test_an_export_made_before_split_weights_is_split_on_first_use(exported, tmp_path):
    import onnx

    path = tmp_path / "model"
    shutil.copytree(exported, path)
    folder = path / ONNX_DIR
    onnx.save_model(onnx.load(str(folder / "model.onnx")), str(folder / "model.onnx"))
    (folder / "model.onnx.data").unlink()  # one file, as exports were written before
    info = json.loads((folder / "export.json").read_text())
    del info["files"]
    (folder / "export.json").write_text(json.dumps(info))
    before = OnnxEncoder.load(path, export=False).encode(TEXTS[:3])  # still loads as it is
    assert ensure_export(path) == folder / "model.onnx"
    assert sorted(json.loads((folder / "export.json").read_text())["files"]) == [
        "model.onnx",
        "model.onnx.data",
    ]
    assert (folder / "model.onnx").stat().st_size < (folder / "model.onnx.data").stat().st_size
    after = OnnxEncoder.load(path, export=False).encode(TEXTS[:3])
    assert np.array_equal(before, after)


def test_embeddings_match_the_torch_encoder(exported):
    from kb.encoder import Encoder

    torch_encoder = Encoder.load(exported, precision="fp32")
    onnx_encoder = OnnxEncoder.load(exported, export=False)
    assert onnx_encoder.dim == torch_encoder.dim
    assert onnx_encoder.max_length == torch_encoder.max_length
    for max_length in (None, 8):  # the default limit, and one that truncates most texts
        ours = onnx_encoder.encode(TEXTS, batch_size=4, max_length=max_length)
        ref = torch_encoder.encode([t.strip() for t in TEXTS], batch_size=4, max_length=max_length)
        assert ours.shape == ref.shape == (len(TEXTS), torch_encoder.dim)
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        assert float(np.min(np.sum(ours * ref, axis=1))) >= 0.9999


def test_tokens_are_those_of_the_transformers_tokenizer(exported):
    from transformers import AutoTokenizer

    from kb.onnx_backend import _features, _truncate

    onnx_encoder = OnnxEncoder.load(exported, export=False)
    reference = AutoTokenizer.from_pretrained(str(exported))
    for max_length in (128, 5):
        _truncate(onnx_encoder.tokenizer, max_length)
        ours = _features(onnx_encoder.tokenizer, TEXTS)
        ref = reference(
            TEXTS, padding=True, truncation=True, max_length=max_length, return_tensors="np"
        )
        for key, value in ours.items():
            assert np.array_equal(value, ref[key]), (max_length, key)


def test_changed_weights_make_the_export_stale_and_first_use_exports_again(exported, tmp_path):
    from safetensors.numpy import load_file, save_file

    path = tmp_path / "model"
    shutil.copytree(exported, path)
    weights = load_file(str(path / "model.safetensors"))
    rng = np.random.default_rng(0)
    weights = {k: v + rng.normal(0, 0.1, v.shape).astype(v.dtype) for k, v in weights.items()}
    save_file(weights, str(path / "model.safetensors"), metadata={"format": "pt"})
    assert export_status(path) == "stale"
    with pytest.raises(ModelError, match="kb.onnx_backend export"):
        OnnxEncoder.load(path, export=False)
    messages = []
    assert ensure_export(path, log=messages.append) == path / ONNX_DIR / "model.onnx"
    assert "stale" in messages[0]
    assert export_status(path) == "current"
    before = OnnxEncoder.load(exported, export=False).encode(["where is my order"])
    after = OnnxEncoder.load(path, export=False).encode(["where is my order"])
    assert float(before[0] @ after[0]) < 0.999  # the new weights answer, not the old graph


def test_a_directory_we_did_not_write_exports_to_the_user_cache(
    tiny_st_model, tmp_path, monkeypatch
):
    # the bundled pretrained model lives inside an installed package: never written to
    path = tmp_path / "site-packages" / "model"
    shutil.copytree(tiny_st_model, path, ignore=shutil.ignore_patterns(ONNX_DIR, "manifest.json"))
    before = sorted(p.name for p in path.rglob("*"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    graph = export_onnx(path)
    assert graph.is_relative_to(tmp_path / "cache")
    assert sorted(p.name for p in path.rglob("*")) == before
    assert find_export(path) == graph


def test_a_read_only_directory_exports_to_the_user_cache(tiny_st_model, tmp_path, monkeypatch):
    import os

    path = tmp_path / "model"
    shutil.copytree(tiny_st_model, path, ignore=shutil.ignore_patterns(ONNX_DIR))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == path / ONNX_DIR else real_access(p, mode)
    )
    graph = export_onnx(path, in_place=True)
    assert graph.is_relative_to(tmp_path / "cache")
    assert find_export(path) == graph
    assert OnnxEncoder.load(path, export=False).encode(["hi"]).shape[0] == 1


def test_a_directory_without_tokenizer_json_is_a_clear_error(exported, tmp_path):
    path = tmp_path / "model"
    shutil.copytree(exported, path)
    (path / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match="no tokenizer.json"):
        OnnxEncoder.load(path, export=False)


def test_encoding_imports_neither_torch_nor_transformers(exported):
    code = (
        "import sys\n"
        "from kb.onnx_backend import OnnxEncoder\n"
        f"enc = OnnxEncoder.load({str(exported)!r}, export=False)\n"
        "assert enc.encode(['where is my order']).shape == (1, enc.dim)\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_pooling_modes_match_sentence_transformers_definitions():
    hidden = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    mask = np.array([[1, 1, 0], [1, 1, 1]])
    out = pool(hidden, mask, ("cls", "max", "mean", "lasttoken"), normalize=False)
    assert out.shape == (2, 16)
    assert out[0, :4].tolist() == hidden[0, 0].tolist()  # cls
    assert out[0, 4:8].tolist() == hidden[0, 1].tolist()  # max over the real tokens
    assert out[0, 8:12].tolist() == ((hidden[0, 0] + hidden[0, 1]) / 2).tolist()
    assert out[0, 12:].tolist() == hidden[0, 1].tolist()  # last real token
    assert out[1, 12:].tolist() == hidden[1, 2].tolist()


def test_a_copy_with_new_file_times_keeps_its_export(exported, tmp_path):
    path = Path(shutil.copytree(exported, tmp_path / "copy", copy_function=shutil.copy))
    before = json.loads((path / ONNX_DIR / "export.json").read_text())["source"]["stat"]
    assert export_status(path) == "current"  # same bytes: the content hash matches
    after = json.loads((path / ONNX_DIR / "export.json").read_text())["source"]["stat"]
    assert after != before  # the new times are remembered: the next check is a stat
