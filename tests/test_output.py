"""training/output.py: `--out` is refused unless it is ours, and replacing loses nothing.

These build artifact directories by hand (a manifest plus files) so each rule is checked in
milliseconds; tests/test_training.py checks the same through real training runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from training.output import check_out_dir, write_artifact


def _write(path: Path, kind: str = "intent", weights: str = "v1", files=None) -> dict:
    """What a trainer's writer does: model files, then a manifest; returns the manifest."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "model.safetensors").write_text(weights)
    (path / "1_Pooling").mkdir(exist_ok=True)
    (path / "1_Pooling" / "config.json").write_text("{}")
    manifest = {"kind": kind, "format_version": 1, "weights": weights}
    if files is not None:
        manifest["files"] = files
    (path / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def _artifact(path: Path, kind: str = "intent", weights: str = "v1") -> Path:
    with write_artifact(path, kind) as a:
        a.manifest = _write(a.path, kind, weights)
    return path


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_missing_and_empty_out_are_fine(tmp_path):
    check_out_dir(tmp_path / "new" / "deeper", "intent")
    (tmp_path / "empty").mkdir()
    _artifact(tmp_path / "empty")
    assert json.loads((tmp_path / "empty" / "manifest.json").read_text())["weights"] == "v1"


def test_the_current_directory_as_out(tmp_path, monkeypatch):
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    _artifact(Path("."))
    monkeypatch.chdir(tmp_path / "here")  # the directory we were in was replaced
    _artifact(Path("."), weights="v2")
    assert _tree(tmp_path / "here")["model.safetensors"] == "v2"
    assert sorted(os.listdir(tmp_path)) == ["here"]


def test_manifest_lists_the_artifacts_files(tmp_path):
    out = _artifact(tmp_path / "m")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"] == ["1_Pooling/config.json", "model.safetensors"]
    assert manifest["kind"] == "intent"


def test_user_files_are_refused_and_kept(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "important.txt").write_text("keep me")
    (tmp_path / "mine.old").mkdir()
    (tmp_path / "mine.old" / "backup.txt").write_text("keep me too")
    before = _tree(tmp_path)
    with pytest.raises(ConfigError, match="not empty and is not a model we trained"):
        check_out_dir(out, "intent")
    with pytest.raises(ConfigError, match="not empty"):
        with write_artifact(out, "intent") as a:
            pytest.fail(f"the body must not run ({a.path})")
    assert _tree(tmp_path) == before
    assert sorted(os.listdir(tmp_path)) == ["mine", "mine.old"]


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda p: _artifact(p, kind="ranker"), "holds a model of kind 'ranker', not 'intent'"),
        (lambda p: p.write_text("a file"), "is a file"),
        (lambda p: (p.mkdir(), (p / "manifest.json").write_text("{not json")), "not empty"),
    ],
)
def test_other_things_are_refused(tmp_path, setup, message):
    out = tmp_path / "out"
    setup(out)
    with pytest.raises(ConfigError, match=message):
        check_out_dir(out, "intent")


def test_a_symbolic_link_is_refused(tmp_path):
    target = _artifact(tmp_path / "real")
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(ConfigError, match="symbolic link"):
        check_out_dir(tmp_path / "link", "intent")


def test_our_model_with_a_users_file_inside_is_refused(tmp_path):
    out = _artifact(tmp_path / "m")
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"files it did not write \(notes.txt\)"):
        check_out_dir(out, "intent")
    assert (out / "notes.txt").read_text() == "mine"


def test_an_export_split_after_training_is_ours_but_other_files_there_are_not(tmp_path):
    """An export made before its weights sat beside the graph gains `onnx/model.onnx.data` on
    first use, after the manifest listed the model's files: retraining still replaces it."""
    with write_artifact(tmp_path / "m", "intent") as a:
        (a.path / "onnx").mkdir()
        (a.path / "onnx" / "model.onnx").write_text("graph and weights")
        a.manifest = _write(a.path, files=["model.safetensors", "onnx/model.onnx"])
    out = tmp_path / "m"
    (out / "onnx" / "model.onnx.data").write_text("weights")  # the split, on first use
    check_out_dir(out, "intent")
    _artifact(out, weights="v2")
    assert not (out / "onnx").exists()
    (out / "onnx").mkdir()
    (out / "onnx" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"did not write \(onnx/notes.txt\)"):
        check_out_dir(out, "intent")


def test_replacing_our_model_touches_nothing_else(tmp_path):
    out = _artifact(tmp_path / "m", weights="v1")
    (tmp_path / "m.old").mkdir()
    (tmp_path / "m.old" / "backup.txt").write_text("user's")
    (tmp_path / "other.txt").write_text("user's")
    _artifact(out, weights="v2")
    assert _tree(out)["model.safetensors"] == "v2"
    assert json.loads((out / "manifest.json").read_text())["weights"] == "v2"
    assert _tree(tmp_path / "m.old") == {"backup.txt": "user's"}
    assert sorted(os.listdir(tmp_path)) == ["m", "m.old", "other.txt"]  # no temporary left


def test_an_artifact_without_a_file_list_is_replaced_by_known_names(tmp_path):
    out = tmp_path / "legacy"
    _write(out, weights="v1")  # as written before manifests listed their files
    (out / "per_intent.csv").write_text("intent,f1\n")
    _artifact(out, weights="v2")
    assert set(_tree(out)) == {"1_Pooling/config.json", "model.safetensors", "manifest.json"}
    _write(out, weights="v3")  # again without a list, now with a file we never write
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="notes.txt"):
        _artifact(out, weights="v4")
    assert (out / "notes.txt").read_text() == "mine"


def test_a_crash_while_writing_leaves_the_old_model(tmp_path):
    out = _artifact(tmp_path / "m", weights="v1")
    before = _tree(out)
    with pytest.raises(RuntimeError, match="disk full"):
        with write_artifact(out, "intent") as a:
            _write(a.path, weights="v2")
            raise RuntimeError("disk full")
    assert _tree(out) == before
    assert os.listdir(tmp_path) == ["m"]


def test_a_failed_swap_puts_the_old_model_back(tmp_path, monkeypatch):
    out = _artifact(tmp_path / "m", weights="v1")
    before = _tree(out)
    real_rename = Path.rename

    def rename(self, target):
        if Path(target) == out:  # the new directory taking the old one's place
            raise OSError("rename failed")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError, match="rename failed"):
        _artifact(out, weights="v2")
    assert _tree(out) == before
    assert os.listdir(tmp_path) == ["m"]


def test_files_that_appear_in_the_old_model_during_the_swap_are_kept(tmp_path, monkeypatch):
    import training.output as output

    out = _artifact(tmp_path / "m", weights="v1")
    real_check = output.check_out_dir
    calls = []

    def check_then_add_a_file(path, kind):
        real_check(path, kind)
        calls.append(path)
        if len(calls) == 2:  # the check just before the swap: a user's file lands now
            (Path(path) / "late.txt").write_text("mine")

    monkeypatch.setattr(output, "check_out_dir", check_then_add_a_file)
    with write_artifact(out, "intent") as a:
        a.manifest = _write(a.path, weights="v2")
    assert _tree(out)["model.safetensors"] == "v2"
    assert a.kept is not None and _tree(a.kept) == {"late.txt": "mine"}
