"""assistant/versions.py and `assistant models ...`: versions, the pointer, the migration of a
directory of the older shape, and a running service picking up a promoted version."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import sqlite_utils
from click.testing import CliRunner

from assistant.cli import cli
from assistant.errors import ModelError
from assistant.versions import (
    ModelStore,
    PointerWatch,
    ResolvedModels,
    link_tree,
    resolve_model,
    resolve_models,
)


@pytest.fixture
def legacy(tmp_path, intent_dir, ranker_dir):
    """A models directory of the older shape: intent/ and ranker/ at the top."""
    d = tmp_path / "models"
    shutil.copytree(intent_dir, d / "intent")
    shutil.copytree(ranker_dir, d / "ranker")
    return d


def files_of(path):
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def add_copy(store: ModelStore, parent: str, **manifest) -> str:
    """A new version made of the parent's files (what retraining does when nothing changed)."""
    tmp = store.new_version()
    for kind in ("intent", "ranker"):
        link_tree(store.version_dir(parent) / kind, tmp / kind)
    return store.add_version(tmp, {"parent": parent, "source": "test", **manifest})


def test_an_old_directory_becomes_version_1_without_losing_anything(legacy):
    before = files_of(legacy)
    # Loading models for a chat uses it as it is, as version 1, and writes nothing.
    assert resolve_models(legacy) == ResolvedModels(legacy, "1", legacy)
    assert files_of(legacy) == before
    # The first command that works with versions migrates it.
    resolved = resolve_models(legacy, migrate=True)
    assert resolved.version == "1"
    assert resolved.path == legacy / "versions" / "1"
    store = ModelStore(legacy)
    assert store.current_id() == "1" and store.ids() == ["1"]
    # The originals are where they were, byte for byte; version 1 holds the same files,
    # hard-linked (no second copy on disk).
    assert files_of(legacy / "intent") == {
        k[len("intent/") :]: v for k, v in before.items() if k.startswith("intent/")
    }
    head = "head.safetensors"
    assert os.path.samefile(legacy / "intent" / head, resolved.path / "intent" / head)
    assert json.loads((legacy / "current").read_text())["version"] == "1"
    assert store.manifest("1")["source"] == "migrated"
    assert [e["event"] for e in store.history()] == ["migrate"]
    # Resolving again migrates nothing more.
    assert resolve_models(legacy, migrate=True) == resolved and store.ids() == ["1"]
    assert resolve_models(legacy) == resolved


def test_the_engine_loads_the_current_version_and_logs_it(legacy):
    from assistant.engine import DialogueEngine

    engine = DialogueEngine.load(legacy)
    assert engine.versions["version"] == "1" and engine.intent.path == legacy / "intent"
    ModelStore(legacy).ensure()
    engine = DialogueEngine.load(legacy)
    assert engine.versions["version"] == "1"
    assert engine.intent.path == legacy / "versions" / "1" / "intent"


def test_a_damaged_old_directory_is_not_migrated(legacy):
    head = legacy / "intent" / "head.safetensors"
    head.write_bytes(head.read_bytes()[:-8])
    with pytest.raises(ModelError, match="head.safetensors is damaged"):
        ModelStore(legacy).ensure()
    assert not (legacy / "versions").exists() and not (legacy / "current").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_a_read_only_old_directory_is_used_as_it_is(legacy):
    os.chmod(legacy, 0o555)
    try:
        resolved = resolve_models(legacy, migrate=True)
        assert resolved.path == legacy and resolved.version == "1"
        assert not (legacy / "versions").exists()
        res = CliRunner().invoke(cli, ["models", "list", "--models", str(legacy), "--json"])
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["current"] == "1"
        res = CliRunner().invoke(cli, ["models", "rollback", "--models", str(legacy)])
        assert res.exit_code != 0 and "cannot be written" in res.output
    finally:
        os.chmod(legacy, 0o755)


def test_promote_and_rollback_switch_the_pointer(legacy):
    ModelStore(legacy).ensure()
    store = ModelStore(legacy)
    v2 = add_copy(store, "1")
    v3 = add_copy(store, "2")
    assert (v2, v3) == ("2", "3") and store.current_id() == "1"
    assert store.promote("2") == "1"
    assert store.promote("3") == "2"
    assert resolve_models(legacy).path == legacy / "versions" / "3"
    assert store.rollback() == ("3", "2")
    assert store.rollback() == ("2", "1")
    with pytest.raises(ModelError, match="no earlier current version"):
        store.rollback()
    with pytest.raises(ModelError, match="not a version id"):
        store.promote("../1")
    with pytest.raises(ModelError, match="no version '7'"):
        store.promote("7")
    events = [(e["event"], e["version"]) for e in store.history()]
    assert events == [
        ("migrate", "1"),
        ("promote", "2"),
        ("promote", "3"),
        ("rollback", "2"),
        ("rollback", "1"),
    ]
    # No temporary file is left beside the pointer.
    assert sorted(p.name for p in legacy.iterdir() if p.name.startswith(".current")) == []


def test_models_cli_list_promote_rollback_diff(legacy):
    run = CliRunner().invoke
    res = run(cli, ["models", "list", "--models", str(legacy), "--json"])
    assert res.exit_code == 0, res.output
    listed = json.loads(res.output.splitlines()[0])
    assert listed["current"] == "1" and [v["id"] for v in listed["versions"]] == ["1"]
    store = ModelStore(legacy)
    add_copy(store, "1")
    refused = add_copy(store, "1", gate={"passed": False, "reasons": ["intent x regressed"]})
    for vid, f1 in (("2", 0.9), (refused, 0.4)):
        (store.version_dir(vid) / "metrics.json").write_text(
            json.dumps(
                {
                    "eval": {"fingerprint": "abc"},
                    "intent": {"accuracy": f1, "macro_f1": f1, "oos_recall": 0.5},
                    "per_intent": {"x": f1, "y": 1.0},
                    "per_intent_n": {"x": 12, "y": 3},
                }
            )
        )
    res = run(cli, ["models", "promote", "2", "--models", str(legacy)])
    assert res.exit_code == 0 and "current version: 2 (was 1)" in res.output
    res = run(cli, ["models", "promote", refused, "--models", str(legacy)])
    assert res.exit_code != 0 and "intent x regressed" in res.output and "--force" in res.output
    assert store.current_id() == "2"
    res = run(cli, ["models", "promote", refused, "--models", str(legacy), "--force"])
    assert res.exit_code == 0 and store.current_id() == refused
    assert store.history()[-1]["forced"] is True
    res = run(cli, ["models", "list", "--models", str(legacy), "--json"])
    listed = json.loads(res.output.splitlines()[0])
    assert listed["current"] == refused
    by_id = {v["id"]: v for v in listed["versions"]}
    assert by_id[refused]["forced"] and by_id[refused]["gate_passed"] is False
    assert by_id["2"]["metrics"]["macro_f1"] == 0.9
    res = run(cli, ["models", "rollback", "--models", str(legacy)])
    assert res.exit_code == 0 and store.current_id() == "2"
    res = run(cli, ["models", "diff", "2", refused, "--models", str(legacy), "--json"])
    d = json.loads(res.output.splitlines()[0])
    assert d["same_exam"] is True
    assert d["per_intent"][0] == {
        "intent": "x",
        "n": 12,
        "f1_a": 0.9,
        "f1_b": 0.4,
        "change": pytest.approx(-0.5),
    }
    res = run(cli, ["models", "diff", "2", refused, "--models", str(legacy)])
    assert res.exit_code == 0 and "-50.0" in res.output
    res = run(cli, ["models", "list", "--models", str(legacy)])
    assert res.exit_code == 0 and "forced" in res.output


def test_model_options_accept_a_models_directory(legacy):
    ModelStore(legacy).ensure()
    v1 = legacy / "versions" / "1"
    assert resolve_model(legacy, "intent") == v1 / "intent"
    assert resolve_model(v1 / "ranker", "ranker") == v1 / "ranker"
    data = legacy.parent / "d.csv"
    data.write_text("text,label\nwhere is my order,order_status\nrefund please,refund_status\n")
    res = CliRunner().invoke(
        cli, ["eval", "intent", "--model", str(legacy), "--data", str(data), "--json"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output.splitlines()[0])["n"] == 2


def test_pointer_watch_sees_a_promotion(legacy):
    ModelStore(legacy).ensure()
    store = ModelStore(legacy)
    add_copy(store, "1")
    watch = PointerWatch(legacy, "1")
    assert watch.changed() is None
    store.promote("2")
    assert watch.changed() == "2"


def test_a_running_service_picks_up_a_promoted_version_between_turns(legacy, tmp_path):
    from assistant.service import open_service

    db = tmp_path / "log.db"
    svc = open_service(legacy, None, db)
    notices: list[str] = []
    svc.listen(notices.append)
    try:
        svc.follow_models(legacy, interval=0.05)  # the same load, checked more often
        cid = svc.new_conversation()
        svc.respond(cid, "where is my order")  # version 1, the directory as it is
        store = ModelStore(legacy)
        store.ensure()  # `assistant retrain` migrates it meanwhile...
        add_copy(store, "1")  # ... trains version 2 and promotes it
        store.promote("2")
        assert svc.models.wait_for_version("2", 30)
        second = svc.respond(cid, "and my refund?")
        assert second.conversation_id == cid
        assert len(svc.state(cid).history) == 4  # the conversation went on
        assert notices == ["Models: now version 2 (was 1)."]
        store.rollback()
        assert svc.models.wait_for_version("1", 30)
        svc.request_human(cid)  # the button's handoff names the version too
    finally:
        svc.close()
    versions = [
        json.loads(r["model_versions"])["version"]
        for r in sqlite_utils.Database(db).query(
            "SELECT model_versions FROM turns WHERE role = 'assistant' ORDER BY seq"
        )
    ]
    assert versions == ["1", "2", "1"]


def test_ask_answers_with_the_current_version_of_its_run_and_logs_it(legacy, tmp_path):
    db = tmp_path / "log.db"
    messages = tmp_path / "messages.txt"
    messages.write_text("where is my order\nrefund please\n")

    def ask(*args: str) -> None:
        res = CliRunner().invoke(cli, ["ask", *args, "--models", str(legacy), "--db", str(db)])
        assert res.exit_code == 0, res.output

    ask("where is my order")  # the older shape: version 1, as it is
    store = ModelStore(legacy)
    store.ensure()
    add_copy(store, "1")
    store.promote("2")
    ask("--batch", str(messages))
    versions = [
        json.loads(r["model_versions"])["version"]
        for r in sqlite_utils.Database(db).query(
            "SELECT model_versions FROM turns WHERE role = 'assistant' ORDER BY rowid"
        )
    ]
    assert versions == ["1", "2", "2"]


def test_a_model_trained_into_the_top_level_afterwards_becomes_the_next_version(legacy):
    ModelStore(legacy).ensure()
    assert resolve_models(legacy).version == "1"  # nothing new at the top
    # `assistant train intent --out MODELS/intent`, the older way: a new intent model there.
    manifest = legacy / "intent" / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "trained_at": "2026-12-01T00:00:00+00:00"}))
    resolved = resolve_models(legacy)
    assert resolved.version == "2"
    store = ModelStore(legacy)
    assert store.manifest("2")["source"] == "import"
    assert store.manifest("2")["imported"] == ["intent"]
    assert json.loads((resolved.path / "intent" / "manifest.json").read_text())["trained_at"] == (
        "2026-12-01T00:00:00+00:00"
    )
    assert store.history()[-1]["event"] == "import"
    assert resolve_models(legacy).version == "2"  # imported once
    assert store.rollback() == ("2", "1")
