"""kb/manifest.py: one manifest format for every artifact, read by one checking function."""

from __future__ import annotations

import json

import pytest

from kb.errors import KBIndexError, ModelError
from kb.manifest import FORMAT_VERSION, read_manifest, write_manifest


def test_round_trip_adds_kind_version_and_library_versions(tmp_path):
    written = write_manifest(tmp_path, "intent", labels=["a", "b"], threshold=0.5)
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]  # no temporary file left
    read = read_manifest(tmp_path, "intent")
    assert read == written
    assert read["kind"] == "intent" and read["format_version"] == FORMAT_VERSION
    assert read["library_versions"]["numpy"] and read["library_versions"]["python"]


def _write(directory, data: dict):
    directory.mkdir(exist_ok=True)
    (directory / "manifest.json").write_text(json.dumps(data))
    return directory


def test_version_1_manifests_still_load(tmp_path):
    """Models wrote `libraries`, indexes `library_versions`: both come back the same way."""
    model = _write(
        tmp_path / "intent",
        {"kind": "intent", "format_version": 1, "labels": ["a"], "libraries": {"torch": "2"}},
    )
    assert read_manifest(model, "intent")["library_versions"] == {"torch": "2"}
    index = {"kind": "kb-index", "format_version": 1, "library_versions": {"faiss-cpu": "1"}}
    index.update(artifacts={}, model={}, count=0, dimension=4, index={}, files={})
    assert read_manifest(_write(tmp_path / "kb", index), "kb-index")["library_versions"] == {
        "faiss-cpu": "1"
    }


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        ({"kind": "ranker", "format_version": 2}, ModelError, "is a 'ranker' model, expected"),
        ({"kind": "intent", "format_version": 99, "labels": []}, ModelError, "upgrade offline"),
        ({"kind": "intent", "format_version": 0, "labels": []}, ModelError, "retrain it with"),
        ({"kind": "intent", "labels": []}, ModelError, "no valid format version"),
        ({"kind": "intent", "format_version": 2}, ModelError, "no 'labels' entry: retrain"),
        ({"kind": "kb-index", "format_version": 2}, KBIndexError, "no 'artifacts' entry: rebuild"),
        ({"kind": "kb-index", "format_version": 7}, KBIndexError, "newer than this program"),
    ],
)
def test_mismatches_say_how_to_fix_them(tmp_path, data, error, message):
    kind = "kb-index" if error is KBIndexError else "intent"
    with pytest.raises(error, match=message):
        read_manifest(_write(tmp_path / "d", data), kind)


def test_missing_and_corrupted(tmp_path):
    with pytest.raises(ModelError, match="no such model directory"):
        read_manifest(tmp_path / "none", "ranker")
    with pytest.raises(KBIndexError, match=r"manifest\.json is missing.*kb build"):
        read_manifest(tmp_path, "kb-index")
    (tmp_path / "manifest.json").write_text("{oops")
    with pytest.raises(ModelError, match=r"manifest\.json is corrupted.*retrain"):
        read_manifest(tmp_path, "intent")
