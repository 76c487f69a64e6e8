"""The durability contract (docs/reliability.md), tried the way a bad day would.

A reply is returned only once its exchange is on disk, in the log or in the spool; an exchange is
one transaction; a busy log is waited for, with a bound and a notice; a log that fails gives a
clear error and no half exchange; exit statuses say when something failed. Each test uses a real
SQLite file, another connection (or process) as the hostile party, and a scripted engine; the
command-line tests use the tiny trained models.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_engine import ScriptedEngine

from assistant.cli import cli
from assistant.errors import ConfigError, LogError
from assistant.limits import MAX_MESSAGE_CHARS
from assistant.log import ConversationLog, Spool
from assistant.service import AssistantService

TESTS = Path(__file__).parent
ROOT = TESTS.parent


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "conversations.db"


def service(db_path, **options) -> tuple[AssistantService, list[str]]:
    """A service over a scripted engine and the log at `db_path`, and the notices it gives."""
    svc = AssistantService(ScriptedEngine(), ConversationLog(db_path), **options)
    notices: list[str] = []
    svc.listen(notices.append)
    return svc, notices


def stored(db_path, sql: str, params=()) -> list[tuple]:
    """What another connection (another process) reads from the file now."""
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


class HeldLock:
    """Another program holding the log's write lock (BEGIN EXCLUSIVE) until `release()`."""

    def __init__(self, db_path) -> None:
        self.conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()


def fail_assistant_turns(db_path, message: str = "database or disk is full") -> None:
    """Make every insert of an assistant turn fail, as a full disk would, for every connection.

    The customer turn of the same exchange is inserted first, so a half exchange would show.
    """
    conn = sqlite3.connect(db_path)
    conn.execute(
        "CREATE TRIGGER fail_assistant BEFORE INSERT ON turns WHEN NEW.role = 'assistant' "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )
    conn.commit()
    conn.close()


def heal(db_path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER fail_assistant")
    conn.commit()
    conn.close()


# -- a reply is returned only once its exchange is on disk --------------------------------------


def test_a_returned_reply_is_already_in_the_file(db_path):
    svc, notices = service(db_path)
    cid = svc.new_conversation()
    reply = svc.respond(cid, "where is NH-48213?")
    # Read by another connection at once: no flush, no close.
    rows = stored(
        db_path, "SELECT role, id FROM turns WHERE conversation_id = ? ORDER BY seq", [cid]
    )
    assert [role for role, _ in rows] == ["customer", "assistant"] and rows[1][1] == reply.turn_id
    assert notices == [] and not Spool.beside(db_path).path.exists()
    svc.close()


def test_a_busy_log_is_waited_for_with_a_notice(db_path):
    svc, notices = service(db_path, log_wait=30, notice_after=0.1)
    cid = svc.new_conversation()
    svc.respond(cid, "hello")
    lock = HeldLock(db_path)
    timer = threading.Timer(0.8, lock.release)
    timer.start()
    reply = svc.respond(cid, "where is NH-48213?")
    timer.join()
    assert len(notices) == 1 and "is busy" in notices[0] and "waiting up to 30 s" in notices[0]
    assert stored(db_path, "SELECT id FROM turns WHERE seq = 4") == [(reply.turn_id,)]
    assert not Spool.beside(db_path).path.exists()
    svc.close()


def test_a_log_busy_past_the_wait_spools_the_exchange_and_says_so(db_path):
    svc, notices = service(db_path, log_wait=0.6, notice_after=0.1)
    cid = svc.new_conversation()
    svc.respond(cid, "hello")
    lock = HeldLock(db_path)
    try:
        reply = svc.respond(cid, "where is NH-48213? I'm jo@example.com")
    finally:
        lock.release()
    assert reply.reply and svc.spooled == 1 and svc.lost == 0
    spool = Spool.beside(db_path)
    assert "is busy" in notices[0]
    assert "could not be written" in notices[1] and str(spool.path) in notices[1]
    assert "next time the assistant starts" in notices[1]
    assert "jo@example.com" not in " ".join(notices) and b"jo@example.com" not in (
        spool.path.read_bytes()
    )
    assert stored(db_path, "SELECT COUNT(*) FROM turns") == [(2,)]  # not in the log yet
    svc.close()  # nothing was lost: close does not fail

    again, notices = service(db_path)  # the next start writes it into the log
    assert "1 exchange(s)" in notices[0] and "written to the log now" in notices[0]
    turns = again.log.transcript(cid)
    assert [t.seq for t in turns] == [1, 2, 3, 4] and turns[3].id == reply.turn_id
    assert turns[2].text == "where is NH-48213? I'm [EMAIL]"
    assert not spool.path.exists()
    again.close()


def test_a_failing_log_stores_no_half_exchange_and_the_reply_is_spooled(db_path):
    svc, notices = service(db_path)
    cid = svc.new_conversation()
    fail_assistant_turns(db_path)
    reply = svc.respond(cid, "where is NH-48213?")
    assert "database or disk is full" in notices[-1] and "saved to" in notices[-1]
    # The customer turn went in first and was rolled back with the failed reply.
    assert stored(db_path, "SELECT COUNT(*) FROM turns") == [(0,)]
    assert stored(db_path, "SELECT COUNT(*) FROM conversations") == [(0,)]
    heal(db_path)
    svc.close()
    again, _ = service(db_path)
    assert [t.id for t in again.log.transcript(cid)][1] == reply.turn_id
    again.close()


def test_a_full_file_keeps_no_half_exchange(db_path):
    """The issue's case at the store: a 51 KB message on a log that cannot grow."""
    from assistant.reply import Reply

    with ConversationLog(db_path) as log:
        cid = log.new_conversation()
        pages = log.db.execute("PRAGMA page_count").fetchone()[0]
        log.db.execute(f"PRAGMA max_page_count = {pages + 2}")  # room for a little, not 51 KB
        reply = Reply("It shipped.", "ranker", "best reply scores 0.90", cid, "answer-1")
        with pytest.raises(LogError, match="full.* The disk is full: free some space"):
            log.add_exchange(cid, "where is my order? " + "x" * 51_000, reply)
        assert log.transcript(cid) == []  # neither the message nor the reply
        log.add_exchange(cid, "short again", reply)  # a small one still fits
        assert [t.role for t in log.transcript(cid)] == ["customer", "assistant"]


def test_when_neither_log_nor_spool_can_be_written_no_reply_is_returned(db_path):
    svc, notices = service(db_path)
    cid = svc.new_conversation()
    fail_assistant_turns(db_path)
    Spool.beside(db_path).path.mkdir()  # the spool cannot be written either
    with pytest.raises(LogError, match="not saved, so the reply is not shown") as info:
        svc.respond(cid, "where is NH-48213?")
    assert "database or disk is full" in str(info.value)
    assert svc.lost == 1 and stored(db_path, "SELECT COUNT(*) FROM turns") == [(0,)]
    svc.close()


def test_a_rating_that_is_not_saved_is_announced_and_fails_close(db_path):
    svc, notices = service(db_path, log_wait=0.4)
    cid = svc.new_conversation()
    reply = svc.respond(cid, "hello")
    lock = HeldLock(db_path)
    svc.rate(reply.turn_id, good=True)
    svc.writer.wait(10)
    lock.release()
    assert any(n.startswith("Could not save a rating:") for n in notices)
    with pytest.raises(LogError, match="not saved"):
        svc.close()


# -- limits --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\u200b", "\u200b\u200d\ufeff\u2060", "\t\u3164\n"])
def test_a_message_with_nothing_visible_is_neither_answered_nor_logged(db_path, text):
    svc, _ = service(db_path)
    with pytest.raises(ConfigError, match="empty"):
        svc.respond(svc.new_conversation(), text)
    assert svc.engine.calls == []
    svc.close()
    assert stored(db_path, "SELECT COUNT(*) FROM conversations") == [(0,)]


def test_a_long_message_is_cut_and_the_log_says_so(db_path):
    svc, notices = service(db_path)
    cid = svc.new_conversation()
    card = "4111 1111 1111 1111"
    head = "x" * (MAX_MESSAGE_CHARS - 10)  # the card straddles the cut
    svc.respond(cid, head + " " + card + " " + "y" * 100_000)
    seen = svc.engine.calls[0][1]
    assert len(seen) <= MAX_MESSAGE_CHARS and seen.startswith(head)
    assert "1111" not in seen  # redacted before the cut: no half card
    (text, cut), _ = stored(
        db_path, "SELECT text, cut_chars FROM turns WHERE conversation_id = ? ORDER BY seq", [cid]
    )
    # Counted in the message as stored (redacted): "[CARD]" stands for the card's 19 characters.
    assert text == seen and cut == len(head + " [CARD] " + "y" * 100_000) - len(seen)
    assert "cut to 2,000 characters" in notices[0]
    svc.close()


@pytest.mark.parametrize(
    "cid", ["\x1b]0;pwned\x07", "a" * 65, "has space", "-leading-dash", "é-accent", "x\u202eevil"]
)
def test_a_bad_conversation_id_is_refused_and_echoed_escaped(db_path, cid):
    svc, _ = service(db_path)
    with pytest.raises(ConfigError, match="is not valid") as info:
        svc.respond(cid, "hello")
    message = str(info.value)
    assert "\x1b" not in message and "\x07" not in message and "\u202e" not in message
    svc.close()
    assert stored(db_path, "SELECT COUNT(*) FROM conversations") == [(0,)]


def _first_turn(db_path: str, cid: str, barrier) -> None:
    svc = AssistantService(ScriptedEngine(), ConversationLog(db_path))
    barrier.wait()
    svc.respond(cid, f"first words from {os.getpid()}")
    svc.close()


def test_processes_starting_the_same_new_conversation_at_once_all_succeed(db_path):
    with ConversationLog(db_path):
        pass
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=_first_turn, args=(str(db_path), "NH-1", barrier)) for _ in "abcd"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    rows = stored(
        db_path, "SELECT seq, role FROM turns WHERE conversation_id = 'NH-1' ORDER BY seq"
    )
    assert [seq for seq, _ in rows] == list(range(1, 9))
    assert [role for _, role in rows] == ["customer", "assistant"] * 4  # each reply after its turn
    assert stored(db_path, "SELECT COUNT(*) FROM conversations") == [(1,)]


# -- kill -9 ---------------------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from fake_engine import ScriptedEngine
    from assistant.log import ConversationLog
    from assistant.service import AssistantService

    svc = AssistantService(ScriptedEngine(), ConversationLog({db!r}))
    cid = svc.new_conversation()
    i = 0
    while True:
        reply = svc.respond(cid, f"message {{i}}")
        print(reply.turn_id, flush=True)  # returned to the caller
        i += 1
    """
)


def test_kill_9_loses_no_reply_that_was_returned(db_path):
    code = CHILD.format(tests=str(TESTS), db=str(db_path))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env)
    returned = []
    for line in child.stdout:
        returned.append(line.decode().strip())
        if len(returned) == 200:
            child.send_signal(signal.SIGKILL)  # mid-stream: the next turns are being answered
            break
    returned += [line.decode().strip() for line in child.stdout]  # printed before it died
    child.wait()
    assert child.returncode == -signal.SIGKILL
    with ConversationLog(db_path) as log:
        assert log.set_aside is None  # intact
        ids = {t.id for c in log.conversations() for t in log.transcript(c.id)}
        turns = [t for c in log.conversations() for t in log.transcript(c.id)]
    assert set(returned) <= ids
    assert [t.role for t in turns] == ["customer", "assistant"] * (len(turns) // 2)
    assert stored(db_path, "PRAGMA integrity_check") == [("ok",)]


# -- the command line: exit statuses, messages -------------------------------------------------


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, intent_dir, ranker_dir):
    import shutil

    d = tmp_path_factory.mktemp("models")
    shutil.copytree(intent_dir, d / "intent")
    shutil.copytree(ranker_dir, d / "ranker")
    return d


def ask(models_dir, db_path, *args, env=None):
    runner = CliRunner()
    return runner.invoke(
        cli,
        ["ask", *args, "--models", str(models_dir), "--db", str(db_path)],
        env={"ASSISTANT_HOME": str(db_path.parent / "home"), **(env or {})},
    )


def test_ask_on_a_busy_log_prints_the_reply_once_it_is_spooled(models_dir, db_path):
    with ConversationLog(db_path):
        pass
    lock = HeldLock(db_path)
    try:
        res = ask(
            models_dir, db_path, "where is my order", "--json", env={"ASSISTANT_LOG_WAIT": "2"}
        )
    finally:
        lock.release()
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip())["reply"]
    assert "is busy" in res.stderr and "saved to" in res.stderr and "elapsed:" in res.stderr
    assert len(Spool.beside(db_path)) == 1


def test_ask_prints_no_reply_when_the_exchange_cannot_be_saved(models_dir, db_path):
    with ConversationLog(db_path):
        pass
    fail_assistant_turns(db_path)
    Spool.beside(db_path).path.mkdir()
    res = ask(models_dir, db_path, "where is my order", "--json")
    assert res.exit_code == 1 and res.stdout == ""
    assert "not saved, so the reply is not shown" in res.stderr
    assert "Traceback" not in res.output
    assert stored(db_path, "SELECT COUNT(*) FROM turns") == [(0,)]


def test_ask_refuses_a_message_with_nothing_visible(models_dir, db_path):
    res = ask(models_dir, db_path, "\u200b\u200b")
    assert res.exit_code == 1 and "MESSAGE is empty" in res.stderr
    assert not db_path.exists()  # nothing opened, nothing written


def test_ask_refuses_a_bad_conversation_id_without_echoing_escape_codes(models_dir, db_path):
    res = ask(models_dir, db_path, "hello", "--conversation", "\x1b]0;pwned\x07\x1b[2J")
    assert res.exit_code == 1 and "is not valid" in res.stderr
    assert "\x1b" not in res.output and "\\x1b" in res.stderr
    assert not db_path.exists()


def test_ask_says_when_a_damaged_log_was_set_aside(models_dir, db_path):
    with ConversationLog(db_path, synchronous="OFF") as log:
        cid = log.new_conversation()
        for i in range(300):
            log.add_turn(cid, "customer", f"turn {i} " * 30)
    with open(db_path, "r+b") as fh:
        fh.truncate(db_path.stat().st_size // 2)
    res = ask(models_dir, db_path, "where is my order")
    assert res.exit_code == 0, res.output
    assert "was damaged" in res.stderr and ".damaged-" in res.stderr
    assert len(list(db_path.parent.glob("conversations.db.damaged-*"))) == 1
    assert stored(db_path, "SELECT COUNT(*) FROM turns") == [(2,)]


def _commands(group, prefix=""):
    import click

    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def test_every_command_is_timed():
    untimed = [
        name for name, command in _commands(cli) if not getattr(command.callback, "timed", 0)
    ]
    assert untimed == []


def test_every_command_prints_its_elapsed_time(models_dir, db_path):
    res = ask(models_dir, db_path, "where is my order")
    assert res.exit_code == 0 and "elapsed:" in res.stderr
    res = CliRunner().invoke(cli, ["log", "hand-back", "nope", "--db", str(db_path)])
    assert res.exit_code == 1 and "elapsed:" in res.stderr


# -- the chat: notices on screen, exit status --------------------------------------------------

SIZE = (110, 34)


def scripted_chat(backend, script):
    """A `ChatApp` whose `run()` plays `script(app, pilot)` headless, for `run_chat_app`."""
    from chat_helpers import run_chat

    from assistant.tui.app import ChatApp

    app = ChatApp(backend)

    async def drive() -> None:
        async with run_chat(app, size=SIZE, notifications=True) as pilot:
            await script(app, pilot)

    app.run = lambda *args, **kwargs: asyncio.run(drive())
    return app


def toasts(app) -> str:
    return " ".join(str(toast.render()) for toast in app.screen.query("Toast"))


async def send(pilot, text: str) -> None:
    from chat_helpers import until

    pilot.app.query_one("#prompt").value = text
    await pilot.press("enter")
    await until(pilot, lambda: not pilot.app.busy)


def test_chat_exits_non_zero_when_a_rating_was_lost_even_after_browsing(db_path):
    """The issue's case: a locked log, a rating, ctrl+o, quit: the exit status must say so."""
    from assistant.cli.chat import run_chat_app

    svc, _ = service(db_path, log_wait=0.5, notice_after=0.1)

    async def script(app, pilot) -> None:
        from chat_helpers import until

        await send(pilot, "hello")
        lock = HeldLock(db_path)
        try:
            await pilot.press("ctrl+g")  # the rating waits for the lock, then fails
            await until(pilot, lambda: app.notices, timeout=10)
        finally:
            lock.release()
        await pilot.press("ctrl+o")  # reading the log works again
        await until(pilot, lambda: app.screen.query("DataTable"))
        assert "Could not save a rating" in toasts(app.screen.app)

    app = scripted_chat(svc, script)
    with pytest.raises(LogError, match="not saved; first: add_feedback"):
        run_chat_app(svc, app)
    assert any("Could not save a rating" in n for n in app.notices)


def test_chat_shows_a_spooled_exchange_and_a_failed_one_fails_the_exit_status(db_path):
    import click

    from assistant.cli.chat import run_chat_app

    svc, _ = service(db_path)

    async def script(app, pilot) -> None:
        fail_assistant_turns(db_path)
        await send(pilot, "where is NH-48213?")  # spooled: shown, and the user is told
        assert "saved to" in toasts(app) and app.failures == 0
        os.replace(Spool.beside(db_path).path, db_path.parent / "kept.jsonl")
        Spool.beside(db_path).path.mkdir()  # now the spool cannot be written either
        await send(pilot, "and my refund?")
        assert app.failures == 1 and "not saved" in app.last_failure
        assert app.query_one("#prompt").value == "and my refund?"  # kept for another try

    app = scripted_chat(svc, script)
    with pytest.raises(click.ClickException, match="1 thing"):
        run_chat_app(svc, app)


def test_chat_refuses_a_message_with_nothing_visible(db_path):
    from assistant.cli.chat import run_chat_app

    svc, _ = service(db_path)

    async def script(app, pilot) -> None:
        app.query_one("#prompt").value = "\u200b\u2060"
        await pilot.press("enter")
        await pilot.pause()
        assert "nothing visible" in toasts(app) and not app.busy

    run_chat_app(svc, scripted_chat(svc, script))  # exits 0: nothing failed
    assert svc.engine.calls == []
    assert stored(db_path, "SELECT COUNT(*) FROM turns") == [(0,)]


# -- a real full disk and a real read-only one (a small tmpfs, in a user namespace) ----------------

DISK_SCRIPT = textwrap.dedent(
    """
    import json, os, subprocess, sys
    sys.path.insert(0, {tests!r})
    from fake_engine import ScriptedEngine
    from assistant.errors import LogError
    from assistant.log import ConversationLog, Spool
    from assistant.service import AssistantService, check_writable

    disk, out = {disk!r}, {out!r}
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", disk], check=True)
    db = os.path.join(disk, "conversations.db")
    result = {{"returned": [], "spooled": 0, "refused": []}}
    svc = AssistantService(ScriptedEngine(), ConversationLog(db))
    cid = svc.new_conversation()
    for i in range(400):  # 2,000-character messages until the disk is full
        try:
            reply = svc.respond(cid, f"message {{i}} " + "where is my order? " * 110)
        except LogError as exc:
            result["refused"].append(str(exc))
            if len(result["refused"]) == 3:
                break
        else:
            result["returned"].append(reply.turn_id)
    result["spooled"] = svc.spooled
    try:
        svc.close()
    except LogError as exc:
        result["close"] = str(exc)
    subprocess.run(["mount", "-o", "remount,size=8m", disk], check=True)  # space again
    again = AssistantService(ScriptedEngine(), ConversationLog(db))
    result["replayed"] = again.spool is not None and not Spool.beside(db).path.exists()
    turns = [t for t in again.log.transcript(cid)]
    result["stored"] = [t.id for t in turns]
    result["roles"] = [t.role for t in turns]
    result["integrity"] = again.log.db.execute("PRAGMA integrity_check").fetchone()[0]
    again.close()
    subprocess.run(["mount", "-o", "remount,ro", disk], check=True)
    try:
        check_writable(__import__("pathlib").Path(db))
    except LogError as exc:
        result["read_only"] = str(exc)
    json.dump(result, open(out, "w"))
    """
)


def test_a_full_disk_and_a_read_only_one(tmp_path):
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True
    )
    if probe.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (unshare --user --mount is not allowed)")
    disk, out = tmp_path / "disk", tmp_path / "result.json"
    disk.mkdir()
    code = DISK_SCRIPT.format(tests=str(TESTS), disk=str(disk), out=str(out))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out.read_text())
    # The disk filled up: first exchanges went to the spool, then nothing could be saved.
    assert result["refused"] and all("not shown" in r for r in result["refused"])
    assert any("disk is full" in r or "No space left" in r for r in result["refused"])
    # Every reply returned is stored once space is back (from the log or the spool).
    assert set(result["returned"]) <= set(result["stored"]) and result["replayed"]
    assert result["roles"] == ["customer", "assistant"] * (len(result["roles"]) // 2)
    assert result["integrity"] == "ok"
    assert "is read-only" in result["read_only"]


def test_log_export_writes_spooled_exchanges_first_and_refuses_a_damaged_log(db_path, tmp_path):
    svc, _ = service(db_path)
    cid = svc.new_conversation()
    fail_assistant_turns(db_path)
    svc.respond(cid, "where is my refund")  # spooled
    heal(db_path)
    svc.close()
    export = ["log", "export", "--db", str(db_path), "--out", str(tmp_path / "out")]
    res = CliRunner().invoke(cli, export)
    assert res.exit_code == 0, res.output
    assert "written to the log now" in res.stderr
    assert "where is my refund" in (tmp_path / "out" / "dialogues.jsonl").read_text()
    with open(db_path, "r+b") as fh:
        fh.truncate(db_path.stat().st_size - 100)
    res = CliRunner().invoke(cli, export)
    assert res.exit_code == 1 and "Nothing exported" in res.stderr and "was damaged" in res.stderr
