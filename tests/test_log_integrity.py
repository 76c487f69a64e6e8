"""assistant/log/integrity.py: a damaged log is found on open, set aside, and never written into."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from assistant.errors import LogError
from assistant.log import ConversationLog
from assistant.log.integrity import header_problem, looks_like_sqlite, quick_check


def make_log(path, turns: int = 400) -> str:
    """A log with one conversation of `turns` turns (several hundred pages), closed cleanly."""
    with ConversationLog(path, synchronous="OFF") as log:
        cid = log.new_conversation()
        for i in range(turns):
            log.add_turn(cid, "customer", f"message {i} " + "about my order " * 20)
    return cid


def damage_middle(path) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.seek((size // 2) // 4096 * 4096)
        fh.write(b"\xa5" * 4096)  # one page of a b-tree overwritten


def assert_set_aside(log: ConversationLog, path, original_size: int) -> None:
    moved = log.set_aside
    assert moved is not None and moved.name.startswith(path.name + ".damaged-")
    assert moved.stat().st_size == original_size  # moved whole, nothing deleted
    (notice,) = log.notices
    assert str(path) in notice and str(moved) in notice and "fresh log" in notice
    assert ".recover" in notice  # says how to get the readable part back
    assert log.conversations() == []  # a fresh, empty log in its place


def test_a_log_damaged_in_the_middle_is_set_aside(tmp_path):
    path = tmp_path / "conversations.db"
    make_log(path)
    damage_middle(path)
    size = path.stat().st_size
    with ConversationLog(path) as log:
        assert_set_aside(log, path, size)
        cid = log.new_conversation()
        log.add_turn(cid, "customer", "hello again")
    with ConversationLog(path) as log:  # the fresh file is whole: nothing to set aside now
        assert log.set_aside is None and log.notices == []
        assert [t.text for t in log.transcript(cid)] == ["hello again"]


@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_a_log_cut_short_is_set_aside(tmp_path, keep):
    path = tmp_path / "conversations.db"
    make_log(path)
    with open(path, "r+b") as fh:
        fh.truncate(int(path.stat().st_size * keep))
    size = path.stat().st_size
    with ConversationLog(path) as log:
        assert_set_aside(log, path, size)


def test_a_cut_at_a_page_boundary_is_found_from_the_header(tmp_path):
    path = tmp_path / "conversations.db"
    make_log(path)
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size - 4096 * 3)
    assert "cut short" in header_problem(path)
    with ConversationLog(path) as log:
        assert log.set_aside is not None


def test_the_wal_and_shm_move_with_the_database(tmp_path):
    path = tmp_path / "conversations.db"
    make_log(path)
    damage_middle(path)
    (tmp_path / "conversations.db-wal").write_bytes(b"")  # left by a crashed process
    (tmp_path / "conversations.db-shm").write_bytes(b"\0" * 32768)
    with ConversationLog(path) as log:
        moved = log.set_aside
    assert (tmp_path / f"{moved.name}-wal").exists() and (tmp_path / f"{moved.name}-shm").exists()


def test_a_whole_log_is_left_alone(tmp_path):
    path = tmp_path / "conversations.db"
    cid = make_log(path, turns=50)
    with ConversationLog(path) as log:
        assert log.set_aside is None and log.notices == []
        assert len(log.transcript(cid)) == 50
    assert [p.name for p in tmp_path.iterdir()] == ["conversations.db"]


def test_a_file_that_is_not_sqlite_is_refused_and_not_moved(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("my own notes, not a database " * 200)
    with pytest.raises(LogError, match="not a usable conversation log"):
        ConversationLog(path)
    assert not looks_like_sqlite(path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.db"]


def test_quick_check_stops_at_its_budget(tmp_path):
    path = tmp_path / "conversations.db"
    make_log(path, turns=2000)
    damage_middle(path)
    conn = sqlite3.connect(path)
    assert quick_check(conn, budget_s=0.0) is None  # out of time before reaching the damage
    assert quick_check(conn, budget_s=30) is not None
    conn.close()


def test_damage_after_opening_makes_writes_fail_with_what_to_do(tmp_path):
    path = tmp_path / "conversations.db"
    cid = make_log(path)
    with ConversationLog(path) as fresh:  # a process that opened the log before the damage
        pass
    damage = path.stat().st_size // 2
    with open(path, "r+b") as fh:
        fh.seek(damage // 4096 * 4096)
        fh.write(b"\xa5" * (path.stat().st_size - damage // 4096 * 4096))
    with ConversationLog(path, check=False) as before:
        with pytest.raises(LogError, match="damaged: start the assistant again"):
            before.add_turn(cid, "customer", "one more")
    with ConversationLog(path) as log:  # ... and the next start sets it aside
        assert log.set_aside is not None
    assert fresh.set_aside is None


def test_two_opening_the_same_damaged_log_at_once_move_it_once(tmp_path):
    path = tmp_path / "conversations.db"
    make_log(path)
    damage_middle(path)
    barrier = threading.Barrier(4)
    logs: list[ConversationLog] = []
    errors: list[BaseException] = []

    def open_it() -> None:
        barrier.wait()
        try:
            logs.append(ConversationLog(path))
        except BaseException as exc:  # shown by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(logs) == 4
    assert len(list(tmp_path.glob("conversations.db.damaged-*[0-9]Z"))) == 1
    cid = logs[0].new_conversation()
    assert all(log.status(cid) == "bot" for log in logs)  # all on the same fresh file
    for log in logs:
        log.close()
