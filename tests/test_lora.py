"""training/lora.py and `lora_rank` in training/intent.py, with the tiny random model.

LoRA training must save an ordinary model directory (merged weights, ONNX export) that the
runtime loads without peft or torch; only the adapted layers may differ from the base.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import WORDS

from assistant.errors import ConfigError
from assistant.intent import IntentClassifier
from training.intent import IntentTrainConfig, train_intent

pytest.importorskip("peft")

ROOT = Path(__file__).resolve().parents[1]


def _tiny_csv(path: Path) -> Path:
    """4 examples per intent: too few to hold any out, so every epoch runs and the last one is
    kept (with validation the probe may win on a random model, and then the adapters stay 0)."""
    rows = [f"{w},{lab}" for lab, ws in WORDS.items() for w in ws]
    path.write_text("text,label\n" + "\n".join(rows) + "\n")
    return path


def _weights(model_dir: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(model_dir / "model.safetensors"))


@pytest.fixture(scope="module")
def lora_dir(tmp_path_factory, tiny_st_model) -> Path:
    """Trained through the command line, as a user would."""
    from assistant.cli import cli

    tmp = tmp_path_factory.mktemp("lora")
    out = tmp / "intent"
    args = ["train", "intent", "--data", str(_tiny_csv(tmp / "i.csv")), "--out", str(out)]
    args += ["--base-model", str(tiny_st_model), "--epochs", "2", "--lora-rank", "4"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "LoRA: rank 4 on query-value" in result.output
    assert "LoRA adapters merged into the weights" in result.output
    return out


def test_lora_saves_a_plain_model_where_only_the_adapted_layers_changed(lora_dir, tiny_st_model):
    base, merged = _weights(tiny_st_model), _weights(lora_dir)
    # the same tensors as the base model: no peft layers (base_layer, lora_A) in the file
    assert sorted(merged) == sorted(base)
    adapted = [k for k in base if k.endswith(("query.weight", "value.weight"))]
    assert len(adapted) == 4  # 2 layers x (query, value)
    for key in base:
        same = np.array_equal(base[key], merged[key])
        assert same == (key not in adapted), key  # adapters learned; nothing else moved
    config = json.loads((lora_dir / "config.json").read_text())
    assert config["model_type"] == "bert" and "peft" not in json.dumps(config)


def test_lora_manifest_records_rank_and_adapter_size(lora_dir):
    from safetensors.numpy import load_file

    m = json.loads((lora_dir / "manifest.json").read_text())
    lora = m["lora"]
    assert (lora["rank"], lora["alpha"], lora["targets"]) == (4, 8.0, "query-value")
    assert m["config"]["lora_rank"] == 4 and lora["merged"] is True
    adapter = lora_dir / "lora" / "adapter_model.safetensors"
    assert lora["adapter_bytes"] == adapter.stat().st_size
    assert lora["adapter_files"] == ["lora/adapter_model.safetensors", "lora/adapter_config.json"]
    assert set(lora["adapter_files"]) <= set(m["files"])  # checksummed with the model
    tensors = load_file(str(adapter))
    # hidden 32, rank 4: A (4, 32) and B (32, 4) per adapted layer
    assert sum(t.size for t in tensors.values()) == lora["adapter_params"] == 4 * 2 * 32 * 4
    assert any(np.abs(t).max() > 0 for k, t in tensors.items() if "lora_B" in k)
    assert lora["merge_max_abs_error"] <= 1e-4
    assert json.loads((lora_dir / "lora" / "adapter_config.json").read_text())["r"] == 4


def test_lora_model_loads_on_both_backends_alike(lora_dir, monkeypatch):
    texts = ["where is my order", "camera offline", "money back yet"]
    monkeypatch.setenv("ASSISTANT_BACKEND", "onnx")
    onnx = IntentClassifier.load(lora_dir)
    assert onnx.encoder.backend == "onnx"
    monkeypatch.setenv("ASSISTANT_BACKEND", "torch")
    torch_clf = IntentClassifier.load(lora_dir, precision="fp32")
    assert np.allclose(onnx.probs(texts), torch_clf.probs(texts), atol=1e-4)
    assert onnx.predict(texts)[0].label in WORDS


def test_the_runtime_loads_a_lora_model_without_peft_or_torch(lora_dir):
    code = (
        "import sys\n"
        "from assistant.intent import IntentClassifier\n"
        f"clf = IntentClassifier.load({str(lora_dir)!r})\n"
        "assert clf.encoder.backend == 'onnx'\n"
        "print(clf.predict(['where is my order'])[0].label)\n"
        "print(sorted(m for m in ('peft', 'torch', 'training') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_BACKEND": "onnx"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.splitlines()
    assert out[0] in WORDS
    assert out[1] == "[]"


def test_all_linear_adapts_every_block_but_not_the_pooler(tmp_path, tiny_st_model):
    cfg = IntentTrainConfig(
        data=str(_tiny_csv(tmp_path / "i.csv")),
        out=str(tmp_path / "m"),
        epochs=1,
        base_model=str(tiny_st_model),
        lora_rank=2,
        lora_targets="all-linear",
    )
    manifest = train_intent(cfg, log=lambda m: None)
    assert manifest["lora"]["adapted_modules"] == 2 * 6  # q, k, v, attention out, 2 MLP
    base, merged = _weights(tiny_st_model), _weights(tmp_path / "m")
    changed = {k for k in base if not np.array_equal(base[k], merged[k])}
    assert "encoder.layer.1.intermediate.dense.weight" in changed
    assert "encoder.layer.0.attention.self.key.weight" in changed
    assert not any(k.startswith(("pooler", "embeddings")) or "LayerNorm" in k for k in changed)
    assert not any(k.endswith(".bias") for k in changed)


def test_full_fine_tuning_records_no_lora(intent_dir):
    assert json.loads((intent_dir / "manifest.json").read_text())["lora"] is None
    assert not (intent_dir / "lora").exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"lora_rank": -1}, "lora_rank must be >= 0"),
        ({"lora_rank": 8, "lora_targets": "keys"}, "LoRA targets must be one of"),
        ({"lora_rank": 8, "lora_alpha": 0}, "LoRA alpha must be > 0"),
        ({"lr_lora": 0}, "lr_lora must be > 0"),
    ],
)
def test_bad_lora_settings_are_refused(fields, message):
    with pytest.raises(ConfigError, match=message):
        IntentTrainConfig(data="x.csv", out="m", **fields)


def test_without_peft_lora_training_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "peft", None)  # `import peft` raises ImportError
    cfg = IntentTrainConfig(data=str(_tiny_csv(tmp_path / "i.csv")), out=str(tmp_path / "m"))
    cfg.lora_rank = 4
    with pytest.raises(ConfigError, match=r"pip install 'offline-assistant\[lora\]'"):
        train_intent(cfg, log=lambda m: None)
    assert not (tmp_path / "m").exists()  # refused before any work
