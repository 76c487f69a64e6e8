"""`assistant kb build|search` and `assistant eval kb` through click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assistant.cli import cli


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("args", [["kb"], ["kb", "build"], ["kb", "search"], ["eval", "kb"]])
def test_every_command_has_help_with_an_example(runner, args):
    result = runner.invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output


def test_build_then_search_json(runner, kb_docs, tiny_st_model, tmp_path):
    out = tmp_path / "index"
    build = runner.invoke(
        cli,
        [
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
        ],
    )
    assert build.exit_code == 0, build.output
    assert "added: 6 files" in build.output
    assert "elapsed:" in build.output  # on stderr, mixed in by CliRunner

    again = runner.invoke(
        cli,
        [
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
            "--json",
        ],
    )
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert report["embedded"] == 0 and len(report["unchanged"]) == 6

    search = runner.invoke(
        cli, ["kb", "search", "--index", str(out), "refund timing", "-k", "3", "--json"]
    )
    assert search.exit_code == 0, search.output
    results = json.loads(search.stdout)["results"]
    assert len(results) == 3
    for item in results:
        assert set(item) == {"score", "article_id", "title", "section", "source", "text"}
        assert isinstance(item["score"], float)


def test_search_text_output_cites_sources(runner, tiny_index):
    args = ["kb", "search", "--index", str(tiny_index), "gift card", "-k", "2"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1. [") and lines[0].endswith(")")
    assert lines[2].startswith("2. [")


def test_eval_kb_json(runner, tiny_index, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "gift card expiry", "article": "faq/gift-cards"}))
    result = runner.invoke(
        cli, ["eval", "kb", "--index", str(tiny_index), "--data", str(questions), "--json"]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert set(metrics) == {"recall_at_1", "recall_at_5", "mrr", "n"} and metrics["n"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["kb", "search", "--index", "{missing}", "hello"], "does not exist"),
        (["kb", "search", "--index", "{index}", "   "], "query is empty"),
        (
            ["kb", "build", "--docs", "{empty}", "--out", "{out}", "--model", "{model}"],
            "no readable documents",
        ),
        (["eval", "kb", "--index", "{index}", "--data", "{bad}"], "bad.jsonl:1: invalid JSON"),
        (
            [
                "kb",
                "build",
                "--docs",
                "{empty}",
                "--out",
                "{out}",
                "--model",
                "{model}",
                "--max-seq-length",
                "1000",
            ],
            "max_seq_length 1000 is more tokens than the model",
        ),
    ],
)
def test_errors_are_one_line_without_traceback(
    runner, tiny_index, tiny_st_model, tmp_path, args, message
):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.jsonl").write_text("{nope\n")
    names = {
        "missing": tmp_path / "missing",
        "index": tiny_index,
        "empty": tmp_path / "empty",
        "out": tmp_path / "out",
        "model": tiny_st_model,
        "bad": tmp_path / "bad.jsonl",
    }
    result = runner.invoke(cli, [a.format(**names) for a in args])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "Error:" in result.output and message in result.output
