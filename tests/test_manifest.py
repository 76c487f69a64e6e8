"""kb/manifest.py: one manifest format for every artifact, read by one checking function."""

from __future__ import annotations

import json
import time
from pathlib import Path

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


# -- checksums, hashed again only when a file's stat changed -------------------------------------
@pytest.fixture
def hashing(monkeypatch, tmp_path):
    """A private user cache, and a count of the files `verify_files` hashes."""
    import kb.manifest

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ASSISTANT_VERIFY", raising=False)
    hashed = []
    real = kb.manifest.sha256_file

    def counting(path):
        hashed.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(kb.manifest, "sha256_file", counting)
    return hashed


def _artifact(directory, **files) -> dict:
    from kb.manifest import CHECKSUMS, file_checksums

    directory.mkdir()
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return {CHECKSUMS: file_checksums(directory, files)}


def test_an_unchanged_file_is_hashed_once_and_a_rewritten_one_again(hashing, monkeypatch, tmp_path):
    import kb.manifest
    from kb.manifest import verify_files

    monkeypatch.setattr(kb.manifest, "QUIET_NS", 0)  # the files are seconds old, not minutes
    manifest = _artifact(tmp_path / "model", **{"weights.bin": b"w" * 4096, "config.json": b"{}"})
    hashing.clear()
    assert verify_files(tmp_path / "model", manifest, "intent") == ["config.json", "weights.bin"]
    assert sorted(hashing) == ["config.json", "weights.bin"]
    verify_files(tmp_path / "model", manifest, "intent")
    verify_files(tmp_path / "model", manifest, "intent")
    assert len(hashing) == 2  # the same stat: not hashed again
    time.sleep(0.05)  # past the file clock's tick
    weights = tmp_path / "model" / "weights.bin"
    weights.write_bytes(b"w" * 2048 + b"X" + b"w" * 2047)  # same size, one byte changed
    with pytest.raises(ModelError, match=r"weights\.bin is damaged \(its sha256 differs"):
        verify_files(tmp_path / "model", manifest, "intent")
    assert hashing[2:] == ["weights.bin"]


def test_a_file_changed_just_before_its_hash_is_hashed_again(hashing, tmp_path):
    """File times come from a coarse clock: a hash taken within QUIET_NS of the file's last
    change vouches for nothing, so the next load hashes it again."""
    from kb.manifest import verify_files

    manifest = _artifact(tmp_path / "model", **{"weights.bin": b"w" * 4096})
    hashing.clear()
    for _ in range(3):
        verify_files(tmp_path / "model", manifest, "intent")
    assert hashing == ["weights.bin"] * 3


def test_assistant_verify_always_hashes_every_load(hashing, monkeypatch, tmp_path):
    import kb.manifest
    from kb.manifest import verify_files

    monkeypatch.setattr(kb.manifest, "QUIET_NS", 0)
    monkeypatch.setenv("ASSISTANT_VERIFY", "always")
    manifest = _artifact(tmp_path / "model", **{"weights.bin": b"w" * 4096})
    hashing.clear()
    for _ in range(3):
        verify_files(tmp_path / "model", manifest, "intent")
    assert hashing == ["weights.bin"] * 3


def test_a_damaged_or_unwritable_cache_only_means_hashing_again(hashing, monkeypatch, tmp_path):
    import kb.manifest
    from kb.manifest import VerifiedFiles, verify_files

    monkeypatch.setattr(kb.manifest, "QUIET_NS", 0)
    manifest = _artifact(tmp_path / "model", **{"weights.bin": b"w" * 4096})
    verify_files(tmp_path / "model", manifest, "intent")
    cache = VerifiedFiles.open(tmp_path / "model").file
    assert cache is not None and cache.is_file()
    cache.write_text("{not json")
    hashing.clear()
    verify_files(tmp_path / "model", manifest, "intent")
    assert hashing == ["weights.bin"]
    assert json.loads(cache.read_text())["weights.bin"][0] == 4096  # rewritten whole
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "model" / "weights.bin"))  # a file
    verify_files(tmp_path / "model", manifest, "intent")
    assert hashing == ["weights.bin"] * 2
