"""Hostile text thrown through every place that stores or shows it (issue 11, item 3).

Escape sequences (title changes, clear screen), Rich markup (`[/]`, `[link=...]`), bidi
overrides, lone surrogates, NUL, zero-width, undecodable bytes and a megabyte go through:
`assistant ask` (a real process with tiny models, and in-process with an engine that repeats
the message into its reply, side panel and citations), the log (write, read back,
`log export`) and the Textual chat and its conversation browser (Pilot). Everywhere: no
crash, nothing on screen or in the output that drives a terminal, markup shown as typed, and
the turn stored. The named samples in `hostile.HOSTILE` always run; hypothesis adds a
bounded number of generated ones.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from chat_helpers import run_chat, until
from click.testing import CliRunner
from hostile import HOSTILE, hostile_text, screen_unsafe, unsafe_chars
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.cli import cli
from assistant.config import EngineConfig
from assistant.errors import ConfigError
from assistant.limits import MAX_MESSAGE_CHARS, is_blank
from assistant.log import ConversationLog, redact_once
from assistant.log.columns import cut_redacted
from assistant.redact import RedactionConfig
from assistant.reply import Candidate, Citation, Decision
from assistant.service import AssistantService
from assistant.untrusted import clean, clip, inert

ROOT = Path(__file__).resolve().parent.parent
SIZE = (110, 34)
FEW = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class EchoEngine:
    """Repeats the customer's message everywhere a reply can carry text: the reply, the
    policy reason, the predicted intent, the ranked candidates and a citation."""

    def __init__(self) -> None:
        self.config = EngineConfig()
        self.versions = {"intent": "echo", "ranker": "echo"}

    def decide(self, history, message: str, low_streak: int = 0) -> Decision:
        return Decision(
            f"You said: {message}",
            "kb",
            f"because {message}",
            intent=message[:30] or "empty",
            confidence=0.9,
            top_intents=[(message[:30] or "empty", 0.9), ("refund", 0.05)],
            candidates=[Candidate(message, 0.5, [message[:30]])],
            citations=[Citation(message[:20] or "a", message, message, message, 0.7, message)],
        )


def stored(text: str) -> str:
    """What the log keeps of a customer message `text` given to `respond` (or `ask`): cleaned,
    redacted, cut to MAX_MESSAGE_CHARS (docs/reliability.md)."""
    return str(cut_redacted(redact_once(clean(text), RedactionConfig()), MAX_MESSAGE_CHARS)[0])


def customer_texts(db: Path) -> list[str]:
    with ConversationLog(db) as log:
        return [
            t.text
            for c in log.conversations(limit=1000)
            for t in log.transcript(c.id)
            if t.role == "customer"
        ]


# -- assistant ask: a real process, tiny models ------------------------------------------------


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, intent_dir, ranker_dir):
    d = tmp_path_factory.mktemp("models")
    shutil.copytree(intent_dir, d / "intent")
    shutil.copytree(ranker_dir, d / "ranker")
    return d


@pytest.fixture(scope="module")
def kb_index(tmp_path_factory, tiny_st_model):
    from kb import BuildConfig, build_index

    out = tmp_path_factory.mktemp("kb") / "index"
    build_index(
        str(ROOT / "tests" / "data" / "kb"),
        str(out),
        BuildConfig(model_path=str(tiny_st_model), show_progress=False, precision="fp32"),
    )
    return out


def run_ask(message: bytes, *options: str, db: Path, models: Path, kb: Path):
    """`python -m assistant ask MESSAGE`: argv carries raw bytes, as a shell would pass them."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env.pop("ASSISTANT_DEBUG", None)
    args = [sys.executable, "-m", "assistant", "ask", message, *options]
    args += ["--models", str(models), "--kb", str(kb), "--db", str(db)]
    return subprocess.run(args, capture_output=True, env=env, timeout=300)


def test_ask_process_with_undecodable_bytes_answers_and_stores_the_turn(
    tmp_path, models_dir, kb_index
):
    """`ask $'my order \\xff\\xfe is late ...' --json`: an answer, valid JSON, the turn kept."""
    db = tmp_path / "log.db"
    # Every sample argv can carry (no NUL; lone surrogates arrive as undecodable bytes).
    skip = ("megabyte", "nul", "lone surrogates")
    hostile = " | ".join(t for name, t in HOSTILE.items() if name not in skip)
    message = b"my order \xff\xfe is late " + hostile.encode()
    result = run_ask(message, "--json", db=db, models=models_dir, kb=kb_index)
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 0, err
    assert "Traceback" not in err and not unsafe_chars(err)
    reply = json.loads(out)  # one JSON object, nothing around it
    assert out.isascii()  # json.dumps escapes every control and non-ASCII character
    rows = sqlite3.connect(db).execute("SELECT role, text FROM turns ORDER BY seq").fetchall()
    assert [role for role, _ in rows] == ["customer", "assistant"]
    assert rows[0][1] == stored("my order \ufffd\ufffd is late " + hostile)
    ids = sqlite3.connect(db).execute("SELECT id FROM conversations").fetchall()
    assert ids == [(reply["conversation_id"],)]  # no empty conversation left behind


# -- assistant ask in-process: the reply repeats the message --------------------------------------


@pytest.fixture
def echo_ask(monkeypatch, tmp_path):
    """Run `assistant ask` (CliRunner) over the real service and log and the EchoEngine."""
    db = tmp_path / "log.db"

    def open_echo(models=None, kb=None, db_path=None, **kw):
        return AssistantService(EchoEngine(), ConversationLog(db))

    monkeypatch.setattr("assistant.service.open_service", open_echo)

    def ask(text: str, *options: str):
        result = CliRunner().invoke(cli, ["ask", text, *options])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        return result

    return ask, db


def _check_echo_ask(ask, db, text: str) -> None:
    shown = ask(text)
    expected = stored(text)
    if is_blank(expected):  # nothing visible after cleaning: refused with a message, no turn
        assert shown.exit_code != 0 and "MESSAGE is empty" in shown.output
        return
    assert shown.exit_code == 0, shown.output
    assert not unsafe_chars(shown.output)
    assert inert(f"You said: {expected}") in shown.output
    as_json = ask(text, "--json")
    assert as_json.exit_code == 0
    reply = json.loads(as_json.stdout)
    assert reply["reply"] == f"You said: {expected}"  # the real text, escaped by JSON
    assert reply["candidates"][0]["text"] == expected
    assert as_json.stdout.isascii()
    with ConversationLog(db) as log:  # the turn is stored
        assert log.transcript(reply["conversation_id"])[0].text == expected


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_ask_shows_hostile_replies_inert_and_json_keeps_them(echo_ask, name):
    ask, db = echo_ask
    _check_echo_ask(ask, db, HOSTILE[name])


@FEW
@given(text=hostile_text())
def test_ask_with_generated_hostile_text(echo_ask, text):
    ask, db = echo_ask
    _check_echo_ask(ask, db, text)


# -- the log: write, read back, export -----------------------------------------------------------


def _round_trip(tmp_path: Path, texts: list[str]) -> None:
    db = tmp_path / "log.db"
    if db.exists():
        db.unlink()
    service = AssistantService(EchoEngine(), ConversationLog(db))
    expected = []
    try:
        for text in texts:
            cid = service.new_conversation()
            if is_blank(stored(text)):  # nothing visible: refused, nothing stored
                with pytest.raises(ConfigError, match="empty"):
                    service.respond(cid, text)
                continue
            reply = service.respond(cid, text)
            expected.append(stored(text))
            assert reply.redacted_text == expected[-1]
    finally:
        service.close()
    assert sorted(customer_texts(db)) == sorted(expected)  # read back exactly
    out = tmp_path / "export"
    if out.exists():
        shutil.rmtree(out)
    result = CliRunner().invoke(cli, ["log", "export", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert not unsafe_chars(result.output)
    lines = (out / "dialogues.jsonl").read_text(encoding="utf-8").splitlines()
    exported = [
        turn["text"]
        for dialogue in map(json.loads, lines)
        for turn in dialogue["turns"]
        if turn["role"] == "customer"
    ]
    assert sorted(exported) == sorted(t for t in expected)


def test_log_round_trip_and_export_of_every_sample(tmp_path):
    _round_trip(tmp_path, list(HOSTILE.values()))


@FEW
@given(texts=st.lists(hostile_text(), min_size=1, max_size=4))
def test_log_round_trip_of_generated_text(tmp_path, texts):
    _round_trip(tmp_path, texts)


# -- the chat and its conversation browser (Pilot) ---------------------------------------------


def _widgets_unsafe(app) -> list[str]:
    """Unsafe characters in what any widget of the current screen renders (scrolled out too)."""
    from textual.widgets import Static

    found = []
    for widget in app.screen.query(Static):
        found += unsafe_chars(str(widget.render()))
    return found


async def _browse_and_open(pilot, app, n: int, first_messages: list[str]) -> None:
    """ctrl+o, check the list of `n` rows, then open (and check) each conversation whose
    first message is in `first_messages`."""
    from textual.widgets import DataTable

    from assistant.tui.app import BrowseScreen, CustomerMessage
    from assistant.tui.safe import SHOWN_CHARS

    await pilot.press("ctrl+o")
    await until(pilot, lambda: isinstance(app.screen, BrowseScreen))
    assert not screen_unsafe(app), "the conversation list"
    summaries = {s.id: s for s in app.backend.conversations()}
    synced: list[str] = []  # ids of the conversations the screen caught up with, in order
    app.log_synced.subscribe(app, lambda view: synced.append(view.id), immediate=True)
    tables = app.screen.query(DataTable)  # none when no conversation is stored yet
    assert (tables.first().row_count if tables else 0) == n
    await pilot.press("escape")
    for text in first_messages:
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, BrowseScreen))
        table = app.screen.query_one(DataTable)
        row, opened = next((r, s.id) for r, s in enumerate(summaries.values()) if s.preview == text)
        assert str(table.coordinate_to_cell_key((row, 0)).row_key.value) == opened
        table.move_cursor(row=row)
        synced.clear()
        await pilot.press("enter")
        await until(
            pilot,
            lambda opened=opened: (
                not isinstance(app.screen, BrowseScreen)
                and opened in synced  # its transcript is on screen
                and app.conversation_id == opened
            ),
        )
        assert not screen_unsafe(app), f"conversation {row}"
        assert not _widgets_unsafe(app)
        shown = str(app.query(CustomerMessage).first().render())
        assert shown == inert(clip(text, SHOWN_CHARS))  # as stored, made inert


# The stored conversations the browser test opens (it lists them all).
OPENED = (
    "osc title",
    "clear screen",
    "8-bit csi",
    "rich markup",
    "closing tag only",
    "bidi override",
    "link markup",
    "megabyte",
)


def test_chat_lists_and_opens_stored_hostile_conversations(tmp_path):
    """The issue's case: first messages stored with escape codes and markup, listed by ctrl+o."""
    from assistant.tui.app import ChatApp

    db = tmp_path / "chat.db"
    service = AssistantService(EchoEngine(), ConversationLog(db))
    seeded = [text for text in HOSTILE.values() if not is_blank(stored(text))]
    for text in seeded:  # as `assistant ask` stores them (nothing visible: refused)
        service.respond(service.new_conversation(channel="cli"), text)

    async def drive() -> None:
        app = ChatApp(service)
        async with run_chat(app, size=SIZE) as pilot:
            # The list shows markup as typed and escape codes as pictures.
            await pilot.press("ctrl+o")
            await until(pilot, lambda: app.screen.query("DataTable"))
            table = app.screen.query_one("DataTable")
            previews = [str(table.get_row_at(r)[3]) for r in range(table.row_count)]
            assert any(p.startswith("[bold red]x[/] [reverse]inverted") for p in previews)
            assert "[/]" in previews and "[link=https://e.vil]click[/link]" in previews
            assert any("␛]0;pwned␇" in p for p in previews)
            await pilot.press("escape")
            opened = [stored(HOSTILE[name]) for name in OPENED]
            # The chat's own new conversation is stored with its first message: not listed.
            await _browse_and_open(pilot, app, len(seeded), opened)
        assert app.return_code in (None, 0)

    try:
        asyncio.run(drive())
    finally:
        service.close()


async def _send_all(pilot, app, texts: list[str]) -> list[str]:
    """Type each text (set as the input's value) into a new conversation and send it."""
    from assistant.tui.app import CustomerMessage
    from assistant.tui.safe import SafeInput

    sent = []
    for text in texts:
        await pilot.press("ctrl+n")
        box = app.query_one("#prompt", SafeInput)
        box.value = text
        typed = box.value.strip()
        before = len(app.query(CustomerMessage))
        await pilot.press("enter")
        if is_blank(typed):  # nothing visible to send: the chat does not send it
            continue
        await until(
            pilot, lambda before=before: len(app.query(CustomerMessage)) > before and not app.busy
        )
        sent.append(typed)
        assert not screen_unsafe(app), "the exchange with the side panel"
        assert not _widgets_unsafe(app)
    return sent


def _drive_chat(tmp_path: Path, texts: list[str]) -> None:
    from assistant.tui.app import ChatApp

    db = tmp_path / "chat.db"
    if db.exists():
        db.unlink()
    service = AssistantService(EchoEngine(), ConversationLog(db))
    sent: list[str] = []

    async def drive() -> None:
        app = ChatApp(service)
        async with run_chat(app, size=SIZE) as pilot:
            sent.extend(await _send_all(pilot, app, texts))
            n = len(service.conversations(limit=1000))
            await _browse_and_open(pilot, app, n, [stored(t) for t in sent[:1]])
        assert app.return_code in (None, 0)

    try:
        asyncio.run(drive())
    finally:
        service.close()
    # What the box showed is what was stored (redacted as always).
    assert sorted(customer_texts(db)) == sorted(stored(t) for t in sent)


def test_chat_sends_every_hostile_sample(tmp_path):
    _drive_chat(tmp_path, list(HOSTILE.values()))


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(texts=st.lists(hostile_text(), min_size=1, max_size=3))
def test_chat_with_generated_hostile_text(tmp_path, texts):
    _drive_chat(tmp_path, texts)
