"""Tests for assistant/demo/prepare.py that need no training (the demo trains for minutes)."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.demo.prepare import (
    DEMO_DATA,
    DEMO_KB_SETTINGS,
    demo_paths,
    is_prepared,
    kb_is_current,
)
from kb.encoder import passage_limit


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
    # the ranker's config: what the passage token limit is read from
    (paths["ranker"] / "config.json").write_text(json.dumps({"max_position_embeddings": 512}))
    paths["kb"].mkdir()
    demo_files = {
        f.relative_to(DEMO_DATA / "kb").as_posix(): {}
        for f in Path(str(DEMO_DATA / "kb")).rglob("*")
        if f.is_file()
    }
    kb_manifest = {
        "files": demo_files,
        "config": DEMO_KB_SETTINGS,
        "embedding": {"max_seq_length": passage_limit(paths["ranker"])},
    }
    (paths["kb"] / "manifest.json").write_text(json.dumps(kb_manifest))
    assert not is_prepared(tmp_path)  # the policy is not calibrated yet
    paths["calibration"].mkdir()
    (paths["calibration"] / "manifest.json").write_text("{}")
    assert is_prepared(tmp_path)
    old = {**kb_manifest, "config": {"max_words": 150}}  # another version's demo index
    (paths["kb"] / "manifest.json").write_text(json.dumps(old))
    assert not is_prepared(tmp_path)
    assert paths["calibration"].parent == paths["intent"].parent  # kept with the models


def test_the_demo_ships_its_training_data_held_out_dialogues_and_articles() -> None:
    # What prepare_demo trains and indexes, and what anyone can replay (issue 10).
    assert (DEMO_DATA / "dialogues.jsonl").is_file()
    assert (DEMO_DATA / "dialogues_test.jsonl").is_file()
    assert (DEMO_DATA / "dialogues_val.jsonl").is_file()  # what the policy is calibrated on
    assert len(list((DEMO_DATA / "kb").iterdir())) >= 5


def test_a_kb_built_with_other_settings_or_token_limit_is_not_current(tmp_path, tiny_st_model):
    from kb import BuildConfig, build_index

    paths = demo_paths(tmp_path)
    paths["ranker"] = tiny_st_model  # the encoder the demo builds its KB with
    docs = Path(str(DEMO_DATA / "kb"))
    settings = {"show_progress": False, "precision": "fp32"}
    build_index(docs, paths["kb"], BuildConfig(model_path=str(tiny_st_model), **settings))
    assert not kb_is_current(paths)  # the defaults are not the demo's settings
    demo = {**settings, **DEMO_KB_SETTINGS}
    build_index(docs, paths["kb"], BuildConfig(model_path=str(tiny_st_model), **demo))
    assert kb_is_current(paths)
    short = BuildConfig(model_path=str(tiny_st_model), max_seq_length=32, **demo)
    build_index(docs, paths["kb"], short)
    assert not kb_is_current(paths)  # passages read at 32 tokens, not at what a build reads now


def test_an_index_of_other_articles_is_never_the_demos_to_rebuild(tmp_path, tiny_st_model):
    from kb import BuildConfig, build_index

    paths = demo_paths(tmp_path)
    paths["ranker"] = tiny_st_model
    docs = tmp_path / "company-docs"
    docs.mkdir()
    (docs / "returns.md").write_text("# Returns\n\nStart a return from Orders within 30 days.\n")
    config = BuildConfig(model_path=str(tiny_st_model), show_progress=False, precision="fp32")
    build_index(docs, paths["kb"], config)  # a company's own index, with other settings
    assert kb_is_current(paths)  # left alone
