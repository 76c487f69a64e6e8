"""Damaged inputs give clear errors: every model, bank and index file is checked on load.

Each damaged file is named in a one-line error of the project's error tree with what to do
(the exact retrain / rebuild command, or the permission fix), and the CLI prints it without
a traceback and exits non-zero. A data directory (models + KB index) can be copied or moved.
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
from kb_fixtures import DATA, build_config

from kb.errors import KBIndexError, ModelError
from kb.manifest import CHECKSUMS, file_checksums, read_manifest, verify_files

ROOT = Path(__file__).resolve().parent.parent
RETRAIN_INTENT = "assistant train intent --data DATA --out"
RETRAIN_RANKER = "assistant train ranker --data DATA --out"
REBUILD_KB = "assistant kb build --docs DOCS --out"


# -- helpers ------------------------------------------------------------------------------------
def damage(path: Path, how: str) -> None:
    """Damage a file the way a bad day does: cut it, empty it, or overwrite it in place."""
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "random":  # same size, other bytes: only a checksum can tell
        path.write_bytes(np.random.default_rng(0).bytes(len(data)))
    elif how == "flip":  # one byte in the middle: same size, a valid header
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    else:  # pragma: no cover
        raise ValueError(how)


def drop_checksums(directory: Path) -> None:
    """Make the manifest look like one written before checksums existed."""
    manifest = directory / "manifest.json"
    data = json.loads(manifest.read_text())
    data.pop(CHECKSUMS, None)
    manifest.write_text(json.dumps(data))


def edit_manifest(directory: Path, **changes) -> None:
    manifest = directory / "manifest.json"
    data = json.loads(manifest.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    manifest.write_text(json.dumps(data))


@pytest.fixture
def models(tmp_path, intent_dir, ranker_dir) -> Path:
    """A writable data directory's models/ with intent/ and ranker/ (trained once)."""
    out = tmp_path / "home" / "models"
    shutil.copytree(intent_dir, out / "intent")
    shutil.copytree(ranker_dir, out / "ranker")
    return out


@pytest.fixture
def index(tmp_path, tiny_index) -> Path:
    """A writable copy of the tiny index, next to a copy of its model (relative path kept)."""
    model = read_manifest(tiny_index, "kb-index")["model"]["path"]
    out = tmp_path / "a" / "b" / "index"
    shutil.copytree(tiny_index, out)
    shutil.copytree((tiny_index / model).resolve(), (out / model).resolve())
    return out


def run_cli(*args: str, home: Path, drop_read_bypass: bool = False) -> subprocess.CompletedProcess:
    """Run `assistant ARGS` in a subprocess with this tree on the path."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_HOME": str(home)}
    env["OMP_NUM_THREADS"] = "1"
    command = [sys.executable, "-m", "assistant", *args]
    if drop_read_bypass and os.geteuid() == 0:
        # root reads every file whatever its mode; without these capabilities it does not
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def assert_clean_failure(done: subprocess.CompletedProcess, *expected: str) -> None:
    """Non-zero exit, no traceback, and every `expected` text in stderr."""
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    for text in expected:
        assert text in done.stderr, done.stderr


# -- checksums in the manifest ------------------------------------------------------------------
def test_trained_models_and_indexes_record_size_and_sha256(intent_dir, ranker_dir, tiny_index):
    intent = read_manifest(intent_dir, "intent")
    assert {"model.safetensors", "head.safetensors", "tokenizer.json"} <= set(intent[CHECKSUMS])
    # the ONNX export is derived (made again when missing or stale): kb.onnx_backend checks it
    assert not any(name.startswith("onnx/") for name in intent[CHECKSUMS])
    assert "metrics.json" not in intent[CHECKSUMS]  # reports may be edited freely
    assert intent[CHECKSUMS] == file_checksums(intent_dir, intent[CHECKSUMS])
    ranker = read_manifest(ranker_dir, "ranker")
    assert {"bank.jsonl", "bank_embeddings.npy", "lexical_reply.npy"} <= set(ranker[CHECKSUMS])
    index = read_manifest(tiny_index, "kb-index")
    assert set(index[CHECKSUMS]) == set(index["artifacts"].values())
    assert verify_files(tiny_index, index, "kb-index") == sorted(index["artifacts"].values())


def test_old_manifests_without_checksums_still_load(models, index):
    from assistant.bank import ResponseBank
    from assistant.intent import IntentClassifier
    from assistant.ranker import ResponseRanker
    from kb import KnowledgeBase

    for directory in (models / "intent", models / "ranker", index):
        drop_checksums(directory)
    assert IntentClassifier.load(models / "intent").predict(["where is my order"])
    assert ResponseRanker.load(models / "ranker").encode_replies(["hi"]).shape[0] == 1
    assert len(ResponseBank.load(models / "ranker")) > 0
    kb = KnowledgeBase.load(index)
    assert kb.search("refund", k=1)
    kb.close()


# -- the intent model ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("file", "how", "says"),
    [
        ("model.safetensors", "truncate", "is damaged (truncated"),
        ("model.safetensors", "empty", "is damaged (empty"),
        ("model.safetensors", "flip", "sha256 differs"),
        ("head.safetensors", "truncate", "is damaged (truncated"),
        ("tokenizer.json", "random", "sha256 differs"),
    ],
)
def test_damaged_intent_file_is_named_with_the_retrain_command(models, file, how, says):
    from assistant.intent import IntentClassifier

    damage(models / "intent" / file, how)
    with pytest.raises(ModelError) as err:
        IntentClassifier.load(models / "intent")
    message = str(err.value)
    assert str(models / "intent" / file) in message and says in message
    assert f"{RETRAIN_INTENT} {models / 'intent'}" in message


@pytest.mark.parametrize(
    ("file", "how", "says"),
    [
        ("model.safetensors", "truncate", "cannot load the model, a file is damaged"),
        ("model.safetensors", "empty", "cannot load the model, a file is damaged"),
        ("head.safetensors", "truncate", "head.safetensors is damaged"),
        ("head.safetensors", "empty", "head.safetensors is damaged"),
    ],
)
def test_damaged_intent_file_without_checksums_is_still_a_clear_error(models, file, how, says):
    """Models trained before checksums: the parsers' own errors become one clear line."""
    from assistant.intent import IntentClassifier

    drop_checksums(models / "intent")
    damage(models / "intent" / file, how)
    with pytest.raises(ModelError, match="(?i)retrain it with") as err:
        IntentClassifier.load(models / "intent")
    assert says in str(err.value) and str(models / "intent") in str(err.value)


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("labels", "has no 'labels' entry"),
        ("kind", "has no 'kind' entry"),
        ("format_version", "no valid format version"),
    ],
)
def test_manifest_without_a_required_key(models, key, says):
    from assistant.intent import IntentClassifier

    edit_manifest(models / "intent", **{key: None})
    with pytest.raises(ModelError) as err:
        IntentClassifier.load(models / "intent")
    message = str(err.value)
    assert str(models / "intent" / "manifest.json") in message and says in message
    assert f"{RETRAIN_INTENT} {models / 'intent'}" in message


def test_labels_that_do_not_match_the_head(models):
    from assistant.intent import IntentClassifier

    edit_manifest(models / "intent", labels=["only_one"])
    with pytest.raises(ModelError, match="head has .* classes but the manifest lists 1"):
        IntentClassifier.load(models / "intent")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_reported_as_permission_denied(models):  # pragma: no cover
    from assistant.intent import IntentClassifier

    (models / "intent" / "model.safetensors").chmod(0)
    with pytest.raises(ModelError, match="permission denied") as err:
        IntentClassifier.load(models / "intent")
    assert "No such file" not in str(err.value) and "chmod" in str(err.value)


# -- the ranker, its bank and lexical towers ----------------------------------------------------
@pytest.mark.parametrize(
    ("file", "how"),
    [
        ("bank.jsonl", "truncate"),
        ("bank_embeddings.npy", "flip"),
        ("lexical_context.npy", "empty"),
        ("model.safetensors", "truncate"),
    ],
)
def test_damaged_ranker_file_is_named_with_the_retrain_command(models, file, how):
    from assistant.engine import DialogueEngine

    damage(models / "ranker" / file, how)
    with pytest.raises(ModelError) as err:
        DialogueEngine.load(models)
    message = str(err.value)
    assert str(models / "ranker" / file) in message and "is damaged" in message
    assert f"{RETRAIN_RANKER} {models / 'ranker'}" in message


@pytest.mark.parametrize(
    ("file", "change", "says"),
    [
        ("bank.jsonl", "cut line", "invalid JSON"),
        ("bank_embeddings.npy", "fewer rows", "does not match"),
        ("bank_embeddings.npy", "narrower", "does not match the ranker"),
        ("bank_embeddings.npy", "truncate", "is damaged"),
        ("lexical_reply.npy", "other shape", "shape"),
        ("lexical_reply.npy", "truncate", "is damaged"),
    ],
)
def test_bank_and_lexical_files_without_checksums(models, file, change, says):
    """Old manifests: damaged or mismatching shapes are still found by the loaders."""
    from assistant.engine import DialogueEngine

    ranker = models / "ranker"
    drop_checksums(ranker)
    path = ranker / file
    if change == "cut line":
        path.write_text(path.read_text()[:-20])
    elif change == "fewer rows":
        np.save(path, np.load(path)[:-1])
    elif change == "narrower":
        np.save(path, np.load(path)[:, :-1])
    elif change == "other shape":
        np.save(path, np.load(path)[:-1])
    else:
        damage(path, change)
    with pytest.raises(ModelError) as err:
        DialogueEngine.load(models)
    message = str(err.value)
    assert str(path) in message and says in message
    assert f"{RETRAIN_RANKER} {ranker}" in message


# -- the knowledge-base index -------------------------------------------------------------------
@pytest.mark.parametrize("artifact", ["index", "embeddings", "passages", "keywords"])
@pytest.mark.parametrize("how", ["random", "truncate"])
def test_damaged_index_file_is_named_with_the_rebuild_command(index, artifact, how):
    """FAISS vectors overwritten with random bytes loaded silently before checksums."""
    from kb import KnowledgeBase

    name = read_manifest(index, "kb-index")["artifacts"][artifact]
    damage(index / name, how)
    with pytest.raises(KBIndexError) as err:
        KnowledgeBase.load(index)
    message = str(err.value)
    assert str(index / name) in message and "is damaged" in message
    assert f"{REBUILD_KB} {index}" in message


def test_index_embeddings_with_the_wrong_shape_without_checksums(index):
    from kb import KnowledgeBase

    drop_checksums(index)
    name = read_manifest(index, "kb-index")["artifacts"]["embeddings"]
    np.save(index / name, np.load(index / name)[:-1])
    with pytest.raises(KBIndexError, match=r"has shape .* expected .* rebuild the index"):
        KnowledgeBase.load(index)


def test_a_missing_index_file_is_named(index):
    from kb import KnowledgeBase

    name = read_manifest(index, "kb-index")["artifacts"]["index"]
    (index / name).unlink()
    with pytest.raises(KBIndexError, match=f"{name} is missing from the knowledge-base index"):
        KnowledgeBase.load(index)


def test_incremental_build_does_not_reuse_a_damaged_previous_build(tiny_st_model, tmp_path):
    from kb import KnowledgeBase, build_index

    out = tmp_path / "index"
    build_index(DATA, out, build_config(tiny_st_model))
    name = read_manifest(out, "kb-index")["artifacts"]["embeddings"]
    damage(out / name, "flip")
    report = build_index(DATA, out, build_config(tiny_st_model))
    assert "cannot be reused" in (report.full_rebuild_reason or "")
    assert "is damaged" in report.full_rebuild_reason
    KnowledgeBase.load(out).close()  # the new build is whole


# -- a data directory can be copied or moved ----------------------------------------------------
def test_index_manifest_names_its_model_relative_to_the_index(tiny_st_model, tmp_path):
    from kb import KnowledgeBase, build_index

    home = tmp_path / "home"
    shutil.copytree(tiny_st_model, home / "models" / "base")
    build_index(DATA, home / "kb", build_config(home / "models" / "base"))
    assert read_manifest(home / "kb", "kb-index")["model"]["path"] == "../models/base"
    # the index copied alone still finds the model where it was built
    shutil.copytree(home / "kb", tmp_path / "kb-alone")
    KnowledgeBase.load(tmp_path / "kb-alone").close()
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(home, moved)
    shutil.rmtree(home)
    kb = KnowledgeBase.load(moved / "kb")
    assert kb.model_path == (moved / "models" / "base").resolve()
    assert kb.search("How long does a refund take?", k=1)[0].article_id == "billing/refunds"
    kb.close()


@pytest.mark.parametrize("absolute", [False, True], ids=["relative", "old-absolute-manifest"])
def test_copied_data_directory_loads_and_answers(models, tmp_path, absolute):
    """Models and a KB built with the ranker's encoder (as `assistant demo` does), copied
    elsewhere and the original deleted: the copy loads and answers. An index manifest from
    before relative paths (absolute model path, no checksums) loads too: the engine finds
    that the index was built with its ranker."""
    from assistant.service import open_service
    from kb import build_index

    home = models.parent
    build_index(DATA, home / "kb", build_config(models / "ranker"))
    if absolute:
        manifest = json.loads((home / "kb" / "manifest.json").read_text())
        manifest["model"]["path"] = str((models / "ranker").resolve())
        (home / "kb" / "manifest.json").write_text(json.dumps(manifest))
        drop_checksums(home / "kb")
    copy = tmp_path / "copied-home"
    shutil.copytree(home, copy)
    shutil.rmtree(home)
    svc = open_service(copy / "models", copy / "kb", copy / "log.db")
    try:
        assert svc.engine.kb.model_path == (copy / "models" / "ranker").resolve()
        reply = svc.respond(svc.new_conversation(channel="test"), "how long does a refund take")
        assert reply.reply
    finally:
        svc.close()


def test_missing_kb_model_names_commands_that_exist(index, tmp_path):
    from kb import KnowledgeBase

    built_with = read_manifest(index, "kb-index")["model"]
    shutil.rmtree((index / built_with["path"]).resolve())
    # and not where it was at build time either
    edit_manifest(index, model={**built_with, "built_path": str(tmp_path / "gone")})
    with pytest.raises(KBIndexError) as err:
        KnowledgeBase.load(index)
    message = str(err.value)
    assert "is not there" in message and f"{REBUILD_KB} {index} --model MODEL" in message
    assert "`assistant kb search` also takes --model" in message


# -- through the CLI: one line on stderr, non-zero exit, no traceback ---------------------------
def test_cli_ask_with_a_truncated_intent_model(models, tmp_path):
    damage(models / "intent" / "model.safetensors", "truncate")
    done = run_cli("ask", "where is my order", "--models", str(models), home=tmp_path)
    assert_clean_failure(
        done,
        str(models / "intent" / "model.safetensors"),
        "is damaged (truncated",
        f"{RETRAIN_INTENT} {models / 'intent'}",
    )


def test_cli_ask_with_an_empty_head_and_no_checksums(models, tmp_path):
    drop_checksums(models / "intent")
    damage(models / "intent" / "head.safetensors", "empty")
    done = run_cli("ask", "where is my order", "--models", str(models), home=tmp_path)
    assert_clean_failure(done, "head.safetensors is damaged", RETRAIN_INTENT)


def test_cli_ask_with_an_unreadable_weight_file(models, tmp_path):
    if os.geteuid() == 0 and shutil.which("setpriv") is None:  # pragma: no cover
        pytest.skip("running as root without setpriv: every file is readable")
    weights = models / "ranker" / "model.safetensors"
    weights.chmod(0)
    done = run_cli("ask", "hi", "--models", str(models), home=tmp_path, drop_read_bypass=True)
    assert_clean_failure(done, str(weights), "cannot be read: permission denied", "chmod")
    assert "No such file" not in done.stderr


def test_cli_kb_search_with_random_faiss_vectors(index, tmp_path):
    name = read_manifest(index, "kb-index")["artifacts"]["index"]
    damage(index / name, "random")
    done = run_cli("kb", "search", "--index", str(index), "refund", home=tmp_path)
    assert_clean_failure(done, str(index / name), "sha256 differs", f"{REBUILD_KB} {index}")


def test_cli_ask_whose_kb_model_is_gone_suggests_no_missing_option(models, tmp_path, tiny_st_model):
    """`ask` has no --model: the message must not send the user to it."""
    from kb import build_index

    home = models.parent
    shutil.copytree(tiny_st_model, home / "other-model")
    build_index(DATA, home / "kb", build_config(home / "other-model"))
    shutil.rmtree(home / "other-model")
    done = run_cli(
        "ask", "refund?", "--models", str(models), "--kb", str(home / "kb"), home=tmp_path
    )
    assert_clean_failure(done, "is not there", f"{REBUILD_KB} {home / 'kb'} --model MODEL")
    assert "pass the model directory explicitly (--model)" not in done.stderr


def test_damaged_onnx_export_is_not_a_traceback(models, capfd, monkeypatch):
    """The ONNX export is derived (no checksum in the manifest): a damaged one is named on
    stderr with the command that exports it again, and torch answers meanwhile."""
    from assistant.intent import IntentClassifier

    monkeypatch.delenv("ASSISTANT_BACKEND", raising=False)
    damage(models / "intent" / "onnx" / "model.onnx", "truncate")
    clf = IntentClassifier.load(models / "intent")
    assert clf.predict(["where is my order"])[0].label
    err = capfd.readouterr().err
    assert f"warning: {models / 'intent' / 'onnx' / 'model.onnx'}" in err
    assert "python -m kb.onnx_backend export" in err and "Using torch" in err
