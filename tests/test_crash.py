"""assistant/crash.py and the command line's last line of defence: crash reports without text."""

from __future__ import annotations

import doctest
import sys

import pytest

import assistant.crash
from assistant.crash import code_path, crash_report, debug_enabled

SECRET = "my card is 4111 1111 1111 1111, I'm jo@example.com"


def test_doctests():
    assert doctest.testmod(assistant.crash).failed == 0


def _raise():
    customer_text = SECRET  # a local variable a traceback with locals would print
    raise ValueError(f"could not parse {customer_text!r}")


def test_report_names_the_place_not_the_message():
    with pytest.raises(ValueError) as info:
        _raise()
    report = crash_report(info.value, "`assistant ask`")
    assert report.startswith("`assistant ask` stopped after an internal error: ValueError at ")
    assert "test_crash.py:" in report and "in _raise" in report
    assert "4111" not in report and "jo@" not in report and "parse" not in report
    assert "ASSISTANT_DEBUG=1" in report


def test_code_path_is_relative_to_its_sys_path_entry():
    import textual.app

    assert code_path(textual.app.__file__) == "textual/app.py"
    assert code_path("<stdin>") == "<stdin>"


@pytest.mark.parametrize(
    "value, on", [("", False), ("0", False), ("no", False), ("1", True), ("yes", True)]
)
def test_debug_switch(monkeypatch, value, on):
    monkeypatch.setenv("ASSISTANT_DEBUG", value)
    assert debug_enabled() is on


def _crash_in_export(monkeypatch, tmp_path):
    """`assistant log export` over a real log, with the exporter failing unexpectedly."""
    from assistant.log import ConversationLog

    db = tmp_path / "log.db"
    ConversationLog(db).close()

    def broken(*args, **kwargs):
        _raise()

    monkeypatch.setattr("assistant.log.export_training_data", broken)
    monkeypatch.setattr(sys, "argv", ["assistant", "log", "export", "--db", str(db), "--out", "x"])


def test_an_unexpected_error_exits_1_with_a_short_report(monkeypatch, tmp_path, capsys):
    from assistant.cli import main

    _crash_in_export(monkeypatch, tmp_path)
    monkeypatch.delenv("ASSISTANT_DEBUG", raising=False)
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "Error: `assistant log` stopped after an internal error: ValueError at " in err
    assert "Traceback" not in err and "4111" not in err and "jo@" not in err


def test_assistant_debug_shows_the_traceback(monkeypatch, tmp_path):
    from assistant.cli import main

    _crash_in_export(monkeypatch, tmp_path)
    monkeypatch.setenv("ASSISTANT_DEBUG", "1")
    with pytest.raises(ValueError, match="4111"):
        main()


def test_library_errors_quoting_a_value_are_inert(tmp_path):
    """An error message quoting a path or an id cannot drive the terminal."""
    from click.testing import CliRunner

    from assistant.cli import cli

    hostile = str(tmp_path / "kb\x1b]0;pwned\x07\x1b[2J\u202e")
    result = CliRunner().invoke(cli, ["kb", "search", "--index", hostile, "refund"])
    assert result.exit_code == 1
    assert "no such index" in result.output
    assert "kb␛]0;pwned␇␛[2J" in result.output  # quoted, visibly
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\u202e" not in result.output
