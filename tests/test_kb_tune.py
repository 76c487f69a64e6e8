"""`kb build --questions`: the tuner tries its grid, builds the best and records the choice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from kb_fixtures import build_config

from assistant.cli import cli
from kb import BuildConfig, KBInputError, KnowledgeBase
from kb.tune import TuneGrid, tune_build

# Keyword-rich questions: with the random tiny model only BM25 can answer them, so the
# heavy keyword weight must win the tuning.
QUESTIONS = [
    ("vinegar limescale descale kettle", "guides/descaling"),
    ("gift cards expire amounts pounds", "faq/gift-cards"),
    ("support opening hours saturday sunday", "faq/opening-hours"),
    ("pdf invoice vat number download", "billing/invoices"),
    ("forgot password reset link spam", "account/password"),
]
GRID = TuneGrid(
    chunkings=((40, False, "title"), (100, True, "title_section")), keyword_weights=(0.0, 10.0)
)


def _questions(path: Path, rows=QUESTIONS) -> Path:
    path.write_text("".join(json.dumps({"question": q, "article": a}) + "\n" for q, a in rows))
    return path


def test_tuning_builds_the_best_point_and_records_every_point(kb_docs, tiny_st_model, tmp_path):
    out = tmp_path / "index"
    questions = _questions(tmp_path / "q.jsonl")
    _, tuning = tune_build(kb_docs, out, questions, build_config(tiny_st_model), GRID)
    # 2 chunkings x (weight 0, and weight 10 with each of the default floors 0 and 0.4)
    assert len(tuning["points"]) == 6
    assert {p["keyword_floor"] for p in tuning["points"] if p["keyword_weight"] == 0} == {0.0}
    assert tuning["n"] == len(QUESTIONS)
    best = max(p["recall_at_1"] + p["recall_at_5"] for p in tuning["points"])
    chosen = tuning["chosen"]
    point = next(p for p in tuning["points"] if all(p[k] == v for k, v in chosen.items()))
    assert point["recall_at_1"] + point["recall_at_5"] == best
    assert chosen["keyword_weight"] == 10.0  # BM25 is all the tiny model has
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tuning"] == tuning
    assert manifest["search"] == {
        "keyword_weight": 10.0,
        "keyword_floor": chosen["keyword_floor"],
    }
    assert manifest["chunking"]["max_words"] == chosen["max_words"]
    kb = KnowledgeBase.load(out)
    try:
        assert kb.keyword_weight == 10.0 and kb.keyword_floor == chosen["keyword_floor"]
    finally:
        kb.close()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".kb-tune-")] == []


def test_a_question_about_an_unknown_article_is_named(kb_docs, tiny_st_model, tmp_path):
    questions = _questions(tmp_path / "q.jsonl", [("anything", "billing/nope")])
    with pytest.raises(KBInputError, match=r"q\.jsonl:1: article 'billing/nope'"):
        tune_build(kb_docs, tmp_path / "index", questions, build_config(tiny_st_model), GRID)
    assert not (tmp_path / "index").exists()


def test_the_default_grid_starts_from_the_shipped_defaults():
    config, grid = BuildConfig(), TuneGrid()
    assert grid.chunkings[0] == (config.max_words, config.pack_blocks, config.embed_template)
    assert config.keyword_weight in grid.keyword_weights
    assert config.keyword_floor in grid.keyword_floors and 0.0 in grid.keyword_floors


def test_bad_grid_values_are_refused():
    with pytest.raises(KBInputError, match="embed_template"):
        TuneGrid(chunkings=((60, False, "heading"),))
    with pytest.raises(KBInputError, match="keyword_weight"):
        TuneGrid(keyword_weights=(-1.0,))
    with pytest.raises(KBInputError, match="keyword_floor"):
        TuneGrid(keyword_floors=(2.0,))
    with pytest.raises(KBInputError, match="one floor"):
        TuneGrid(keyword_floors=())


def test_cli_build_with_questions_prints_the_choice(kb_docs, tiny_st_model, tmp_path):
    out = tmp_path / "index"
    questions = _questions(tmp_path / "q.jsonl")
    args = [
        "kb",
        "build",
        "--docs",
        str(kb_docs),
        "--out",
        str(out),
        "--model",
        str(tiny_st_model),
        "--precision",
        "fp32",
        "--questions",
        str(questions),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"tuned on {len(QUESTIONS)} questions" in result.output
    assert json.loads((out / "manifest.json").read_text())["tuning"]["n"] == len(QUESTIONS)
