"""Inference backends: the choice, the same answers from both, and a runtime without torch.

The engine is loaded twice from the same trained tiny models and KB, once on torch (fp32)
and once on ONNX Runtime, and must decide every turn the same way; `assistant ask` and
`assistant kb search` run in fresh processes that must never import torch or transformers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kb.encoder import Encoder, load_encoder, resolve_backend
from kb.errors import ConfigError
from kb.onnx_backend import ONNX_DIR, OnnxEncoder, export_status

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "sentence_transformers")
MESSAGES = [
    "where is my order",
    "my refund has not arrived yet",
    "the camera is offline again",
    "how long does a refund take?",
    "can I get my money back",
    "thanks",
    "I want to speak to a human",
    "asdf qwerty",
]


def test_resolve_backend(monkeypatch):
    monkeypatch.delenv("ASSISTANT_BACKEND", raising=False)
    monkeypatch.delenv("ASSISTANT_PRECISION", raising=False)
    assert resolve_backend() == "onnx"
    assert resolve_backend("torch") == "torch"
    assert resolve_backend(precision="fp32") == "onnx"
    assert resolve_backend(precision="bf16") == "torch"  # only torch computes in bf16
    monkeypatch.setenv("ASSISTANT_PRECISION", "bf16")
    assert resolve_backend() == "torch"
    monkeypatch.setenv("ASSISTANT_BACKEND", "onnx")
    assert resolve_backend() == "onnx"  # forced
    monkeypatch.setenv("ASSISTANT_BACKEND", "tensorflow")
    with pytest.raises(ConfigError, match="ASSISTANT_BACKEND must be onnx, torch or auto"):
        resolve_backend()


def test_load_encoder_picks_the_backend(monkeypatch, tiny_st_model):
    monkeypatch.delenv("ASSISTANT_PRECISION", raising=False)
    monkeypatch.setenv("ASSISTANT_BACKEND", "torch")
    assert isinstance(load_encoder(tiny_st_model), Encoder)
    monkeypatch.setenv("ASSISTANT_BACKEND", "onnx")
    assert isinstance(load_encoder(tiny_st_model), OnnxEncoder)


def test_a_model_the_onnx_backend_cannot_read_falls_back_to_torch_saying_so(
    monkeypatch, tiny_st_model, tmp_path, capsys
):
    path = Path(shutil.copytree(tiny_st_model, tmp_path / "model"))
    (path / "tokenizer.json").unlink()  # torch converts vocab.txt; ONNX needs tokenizer.json
    monkeypatch.delenv("ASSISTANT_BACKEND", raising=False)
    monkeypatch.delenv("ASSISTANT_PRECISION", raising=False)
    assert isinstance(load_encoder(path), Encoder)
    assert "no tokenizer.json" in capsys.readouterr().err
    monkeypatch.setenv("ASSISTANT_BACKEND", "onnx")
    with pytest.raises(Exception, match="no tokenizer.json"):
        load_encoder(path)


@pytest.fixture(scope="module")
def models(tmp_path_factory, intent_dir, ranker_dir) -> Path:
    """A models folder (intent/, ranker/) of the trained tiny models."""
    out = tmp_path_factory.mktemp("models")
    (out / "intent").symlink_to(intent_dir)
    (out / "ranker").symlink_to(ranker_dir)
    return out


@pytest.fixture(scope="module")
def ranker_kb(tmp_path_factory, ranker_dir) -> Path:
    """The sample KB embedded with the ranker's encoder (as the demo's is)."""
    from kb_fixtures import DATA, build_config

    from kb import build_index

    out = tmp_path_factory.mktemp("kb") / "index"
    build_index(DATA, out, build_config(ranker_dir))
    return out


def _engine(backend: str, models: Path, kb: Path):
    from assistant.engine import DialogueEngine

    os.environ["ASSISTANT_BACKEND"] = backend
    os.environ["ASSISTANT_PRECISION"] = "fp32"
    try:
        return DialogueEngine.load(models, kb)
    finally:
        del os.environ["ASSISTANT_BACKEND"], os.environ["ASSISTANT_PRECISION"]


def _second_encoder(*args, **kwargs):
    raise AssertionError("the KB encoded a query itself instead of using the ranker's embedding")


def test_both_backends_give_the_same_answers(models, ranker_kb, dialogues, monkeypatch):
    ref, ours = _engine("torch", models, ranker_kb), _engine("onnx", models, ranker_kb)
    assert isinstance(ref.ranker.encoder, Encoder) and isinstance(ours.ranker.encoder, OnnxEncoder)
    assert isinstance(ours.intent.encoder, OnnxEncoder)
    # The engine path the demo uses: one context embedding serves the ranker and the KB, so
    # the KB never encodes text (its `search` goes through `encode` too).
    for engine in (ref, ours):
        monkeypatch.setattr(engine.kb, "encode", _second_encoder)
    conversations = [[m] for m in MESSAGES]
    for line in Path(dialogues).read_text().splitlines()[:10]:
        turns = json.loads(line)["turns"]
        conversations.append([t["text"] for t in turns if t["role"] == "customer"])
    decided = 0
    for messages in conversations:
        history: list[tuple[str, str]] = []
        for message in messages:
            a, b = ref.decide(history, message), ours.decide(history, message)
            assert (b.intent, b.source, b.reply) == (
                a.intent,
                a.source,
                a.reply,
            ), message
            assert [t for t, _ in b.top_intents] == [t for t, _ in a.top_intents]
            assert [c.text for c in b.candidates] == [c.text for c in a.candidates]
            assert [(c.article_id, c.section) for c in b.citations] == [
                (c.article_id, c.section) for c in a.citations
            ]
            scores = [(x.score, y.score) for x, y in zip(a.candidates, b.candidates)]
            assert np.allclose(*zip(*scores), atol=1e-4)
            context = ref.ranker.context_text([*history, ("customer", message)])
            ea, eb = ref.ranker.encode_contexts([context]), ours.ranker.encode_contexts([context])
            assert float(ea[0] @ eb[0]) >= 0.9999
            history += [("customer", message), ("agent", a.reply)]
            decided += 1
    assert decided >= 20
    monkeypatch.undo()  # the KBs encode text themselves from here on
    for question in MESSAGES[:5]:
        pa, pb = ref.kb.search(question, k=3), ours.kb.search(question, k=3)
        assert [p.article_id for p in pa] == [p.article_id for p in pb]


def _run_without_torch(args: list[str], env: dict) -> tuple[str, list[str]]:
    """Run the `assistant` command line in a fresh interpreter; return its stdout and which
    of `HEAVY` it had imported when it exited."""
    code = (
        "import atexit, json, sys\n"
        f"heavy = {HEAVY!r}\n"
        "atexit.register(lambda: print('LOADED', json.dumps([m for m in heavy "
        "if m in sys.modules]), file=sys.stderr))\n"
        "from assistant.cli import main\n"
        f"sys.argv = ['assistant', *{args!r}]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    loaded = next(line for line in done.stderr.splitlines() if line.startswith("LOADED"))
    return done.stdout, json.loads(loaded.split(" ", 1)[1])


def test_ask_and_kb_search_run_without_torch(models, ranker_kb, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_HOME": str(tmp_path / "home")}
    env.pop("ASSISTANT_BACKEND", None)
    env.pop("ASSISTANT_PRECISION", None)
    args = ["ask", "where is my order", "--json", "--models", str(models)]
    out, loaded = _run_without_torch(
        [*args, "--kb", str(ranker_kb), "--db", str(tmp_path / "db")], env
    )
    assert json.loads(out)["intent"] and loaded == []
    out, loaded = _run_without_torch(
        ["kb", "search", "--index", str(ranker_kb), "how long does a refund take", "--json"], env
    )
    assert json.loads(out) and loaded == []


def test_a_model_saved_before_exports_existed_is_exported_on_first_use(
    intent_dir, tmp_path, capfd, monkeypatch
):
    from assistant.intent import IntentClassifier

    monkeypatch.delenv("ASSISTANT_BACKEND", raising=False)
    monkeypatch.delenv("ASSISTANT_PRECISION", raising=False)
    old = Path(shutil.copytree(intent_dir, tmp_path / "intent"))
    shutil.rmtree(old / ONNX_DIR)
    assert export_status(old) == "missing"
    clf = IntentClassifier.load(old)
    assert "to ONNX once" in capfd.readouterr().err  # never silently slower
    assert isinstance(clf.encoder, OnnxEncoder) and export_status(old) == "current"
    assert clf.predict(["where is my order"])[0].label


def _threads(encoder) -> int:
    return encoder.session.get_session_options().intra_op_num_threads


def test_the_context_encode_gets_the_cores_and_the_intent_model_one(models, monkeypatch):
    from assistant.engine import DialogueEngine, default_context_threads
    from kb.encoder import set_inference_threads

    monkeypatch.setenv("ASSISTANT_BACKEND", "onnx")
    set_inference_threads(1)  # what `open_service` sets
    try:
        engine = DialogueEngine.load(models)
        pinned = DialogueEngine.load(models, context_threads=1)
    finally:
        set_inference_threads(None)
    assert _threads(engine.ranker.encoder) == default_context_threads("onnx")
    assert _threads(engine.intent.encoder) == 1
    assert _threads(pinned.ranker.encoder) == 1


def test_default_context_threads(monkeypatch):
    from assistant import engine

    monkeypatch.setattr(engine.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert engine.default_context_threads("onnx") == 2
    monkeypatch.setattr(engine.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert engine.default_context_threads("onnx") == engine.MAX_CONTEXT_THREADS
    assert engine.default_context_threads("torch") is None
