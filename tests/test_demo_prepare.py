"""Tests for assistant/demo/prepare.py that need no training (the demo trains for minutes)."""

from __future__ import annotations

from pathlib import Path

from assistant.demo.prepare import DEMO_DATA, demo_paths, is_prepared


def test_demo_paths_live_under_home(tmp_path: Path) -> None:
    paths = demo_paths(tmp_path)
    assert set(paths) == {"intent", "ranker", "kb", "calibration", "db"}
    assert all(tmp_path in p.parents for p in paths.values())
    assert paths["intent"].parent == paths["ranker"].parent  # the service opens one models folder


def test_prepared_only_when_every_artifact_has_a_manifest(tmp_path: Path) -> None:
    paths = demo_paths(tmp_path)
    assert not is_prepared(tmp_path)
    for key in ("intent", "ranker"):
        paths[key].mkdir(parents=True)
        (paths[key] / "manifest.json").write_text("{}")
    assert not is_prepared(tmp_path)
    paths["kb"].mkdir()
    (paths["kb"] / "manifest.json").write_text("{}")
    assert not is_prepared(tmp_path)  # the policy is not calibrated yet
    paths["calibration"].mkdir()
    (paths["calibration"] / "manifest.json").write_text("{}")
    assert is_prepared(tmp_path)
    assert paths["calibration"].parent == paths["intent"].parent  # kept with the models


def test_the_demo_ships_its_training_data_held_out_dialogues_and_articles() -> None:
    # What prepare_demo trains and indexes, and what anyone can replay (issue 10).
    assert (DEMO_DATA / "dialogues.jsonl").is_file()
    assert (DEMO_DATA / "dialogues_test.jsonl").is_file()
    assert (DEMO_DATA / "dialogues_val.jsonl").is_file()  # what the policy is calibrated on
    assert len(list((DEMO_DATA / "kb").iterdir())) >= 5
