"""The command line: every command has --help with an example, is in the README, and bad
input exits non-zero with a one-line message (no traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from assistant.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def all_commands(group: click.Group, prefix=()):
    for name, cmd in group.commands.items():
        path = (*prefix, name)
        yield path, cmd
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, path)


COMMANDS = list(all_commands(cli))


def test_expected_commands_exist():
    names = {" ".join(p) for p, _ in COMMANDS}
    for expected in (
        "train intent",
        "train ranker",
        "eval intent",
        "eval ranker",
        "eval kb",
        "eval dialogues",
        "calibrate",
        "kb build",
        "kb search",
        "ask",
        "chat",
        "demo",
    ):
        assert expected in names


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p))
def test_help_has_example_and_readme_mentions_command(path):
    res = CliRunner().invoke(cli, [*path, "--help"])
    assert res.exit_code == 0
    assert "Example:" in res.output
    assert f"assistant {' '.join(path)}" in README


def test_root_help_and_version():
    res = CliRunner().invoke(cli, ["--help"])
    assert res.exit_code == 0 and "Example:" in res.output
    assert CliRunner().invoke(cli, ["--version"]).exit_code == 0


def test_bad_data_is_one_line_error_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "turns": [{"role": "customer", "text": "hi"}]}\n{oops\n')
    out = tmp_path / "model"
    res = CliRunner().invoke(cli, ["train", "intent", "--data", str(bad), "--out", str(out)])
    assert res.exit_code == 1
    assert f"{bad}:2: invalid JSON" in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_missing_model_dir(tmp_path):
    data = tmp_path / "t.csv"
    data.write_text("text,label\nhi,a\n")
    res = CliRunner().invoke(
        cli, ["eval", "intent", "--model", str(tmp_path / "nope"), "--data", str(data)]
    )
    assert res.exit_code == 1 and "no such model directory" in res.output


def test_eval_json_objects(intent_dir, ranker_dir, dialogues):
    res = CliRunner().invoke(
        cli, ["eval", "intent", "--model", str(intent_dir), "--data", str(dialogues), "--json"]
    )
    assert res.exit_code == 0, res.output
    m = json.loads(res.stdout.strip().splitlines()[-1])
    assert set(m) == {"accuracy", "macro_f1", "oos_recall", "oos_precision", "n"}
    assert m["oos_recall"] is None and m["n"] > 0
    res = CliRunner().invoke(
        cli, ["eval", "ranker", "--model", str(ranker_dir), "--data", str(dialogues), "--json"]
    )
    assert res.exit_code == 0, res.output
    m = json.loads(res.stdout.strip().splitlines()[-1])
    assert set(m) == {"recall_at_1", "recall_at_5", "mrr", "n"} and m["n"] == 120


def test_help_and_ask_help_load_no_heavy_library():
    """`--help` and `ask --help` answer without importing torch, transformers, faiss, textual
    or training (the layers themselves are checked by import-linter: tests/test_layers.py)."""
    import subprocess
    import sys

    code = (
        "import sys; from click.testing import CliRunner; from assistant.cli import cli;"
        "runs = (['--help'], ['ask', '--help']);"
        "codes = [CliRunner().invoke(cli, args).exit_code for args in runs];"
        "heavy = ('torch', 'transformers', 'sentence_transformers', 'faiss', 'textual');"
        "heavy += ('training',);"
        "print(codes, sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[0, 0] []", done.stdout + done.stderr
