"""assistant/log/spool.py: exchanges the log could not take, kept on disk until it can."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat

import pytest

from assistant.errors import LogError
from assistant.log import ConversationLog, Exchange, Spool, new_id
from assistant.reply import Candidate, Reply

EMAIL = "jo.secret@example.com"
CARD = "4111 1111 1111 1111"


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "conversations.db"


def exchange(log: ConversationLog, cid: str, text: str = f"mail {EMAIL}, card {CARD}") -> Exchange:
    reply = Reply(
        f"Thanks, we will write to {EMAIL}.",
        "ranker",
        "best reply scores 0.90 >= 0.55",
        cid,
        new_id(),
        intent="order_status",
        confidence=0.9,
        candidates=[Candidate(f"We will write to {EMAIL}.", 0.9)],
    )
    return log.prepare_exchange(cid, text, reply, channel="cli")


def test_an_exchange_round_trips_through_json(db_path):
    with ConversationLog(db_path) as log:
        original = exchange(log, "NH-48213")
    again = Exchange.from_dict(json.loads(json.dumps(original.to_dict())))
    assert again == original and again.turn_ids == original.turn_ids
    with pytest.raises(LogError, match="unexpected fields"):
        Exchange.from_dict({**original.to_dict(), "customer": {"id": "x", "evil": 1}})


def test_spooled_exchanges_are_written_at_the_next_start_once(db_path):
    spool = Spool.beside(db_path)
    assert spool.path.name == "conversations.db.spool.jsonl"
    with ConversationLog(db_path) as log:
        first, second = exchange(log, "NH-1"), exchange(log, "NH-1", "and again")
        spool.append(first)
        spool.append(second)
        assert len(spool) == 2 and log.transcript("NH-1") == []
        assert stat.S_IMODE(spool.path.stat().st_mode) == 0o600  # customer data
        result = spool.replay(log)
        assert (result.written, result.already, result.left) == (2, 0, 0)
        assert "2 exchange(s)" in result.message() and str(spool.path) in result.message()
        assert not spool.path.exists()
        turns = log.transcript("NH-1")
        assert [t.role for t in turns] == ["customer", "assistant"] * 2
        assert turns[0].text == "mail [EMAIL], card [CARD]" and turns[2].text == "and again"
        assert log.status("NH-1") == "bot"  # the conversation started with its first exchange
        # Written again (a replay cut short by a crash is redone): nothing is stored twice.
        spool.append(first)
        assert spool.replay(log).already == 1 and len(log.transcript("NH-1")) == 4
        assert spool.replay(log).message() == ""  # nothing left to do


def test_the_spool_holds_no_secret_in_clear(db_path):
    spool = Spool.beside(db_path)
    with ConversationLog(db_path) as log:
        spool.append(exchange(log, "NH-2"))
    raw = spool.path.read_bytes()
    for secret in (EMAIL, CARD, CARD.replace(" ", "")):
        assert secret.encode() not in raw
    assert b"[EMAIL]" in raw and b"[CARD]" in raw


def test_a_line_cut_short_by_a_crash_is_ignored(db_path):
    spool = Spool.beside(db_path)
    with ConversationLog(db_path) as log:
        spool.append(exchange(log, "NH-3"))
        whole = spool.path.read_bytes()
        spool.path.write_bytes(whole + whole[: len(whole) // 2])  # killed in the middle of a write
        result = spool.replay(log)
        assert (result.written, result.damaged) == (1, 0)
        assert not spool.path.exists()


def test_a_damaged_line_is_kept_for_a_person_and_the_rest_written(db_path):
    spool = Spool.beside(db_path)
    with ConversationLog(db_path) as log:
        spool.append(exchange(log, "NH-4"))
        with open(spool.path, "ab") as fh:
            fh.write(b'{"format": 1, "exchange": {"broken": true}}\n')
        spool.append(exchange(log, "NH-4", "third"))
        result = spool.replay(log)
        assert (result.written, result.damaged) == (2, 1)
        assert result.kept_at.exists() and not spool.path.exists()
        assert "kept as" in result.message()


def test_a_log_that_still_refuses_keeps_the_spool_whole(db_path):
    spool = Spool.beside(db_path)
    with ConversationLog(db_path) as log:
        spool.append(exchange(log, "NH-5"))
        spool.append(exchange(log, "NH-5", "second"))
    with ConversationLog(db_path) as log:
        log.db.execute("PRAGMA query_only = ON")  # the log refuses every write
        result = spool.replay(log)
        assert (result.written, result.left) == (0, 2) and "readonly" in result.error
        assert len(spool) == 2 and "still waiting" in result.message()
        log.db.execute("PRAGMA query_only = OFF")
        assert spool.replay(log).written == 2


def test_a_full_disk_leaves_no_half_line(db_path, monkeypatch):
    spool = Spool.beside(db_path)
    with ConversationLog(db_path) as log:
        spool.append(exchange(log, "NH-6"))
        before = spool.path.read_bytes()
        real_write = os.write

        def half_then_full(fd, data):  # the disk fills up in the middle of the line
            if len(data) > 20:
                return real_write(fd, bytes(data[:20]))
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "write", half_then_full)
        with pytest.raises(LogError, match="No space left on device"):
            spool.append(exchange(log, "NH-6", "lost"))
        monkeypatch.undo()
        assert spool.path.read_bytes() == before  # the half line was taken back
        spool.append(exchange(log, "NH-6", "later"))
        assert spool.replay(log).written == 2


def _append_many(db_path: str, tag: str, n: int) -> None:
    with ConversationLog(db_path) as log:
        for i in range(n):
            Spool.beside(db_path).append(exchange(log, "NH-7", f"{tag} {i}"))


def test_processes_appending_and_replaying_at_once_lose_nothing(db_path):
    with ConversationLog(db_path):
        pass
    ctx = multiprocessing.get_context("fork")
    writers = [ctx.Process(target=_append_many, args=(str(db_path), t, 30)) for t in "abc"]
    for p in writers:
        p.start()
    with ConversationLog(db_path) as log:
        spool = Spool.beside(db_path)
        while any(p.is_alive() for p in writers):
            spool.replay(log)  # replays (and removes the file) while others append
        for p in writers:
            p.join()
            assert p.exitcode == 0
        spool.replay(log)
        texts = [t.text for t in log.transcript("NH-7") if t.role == "customer"]
    assert sorted(texts) == sorted(f"{tag} {i}" for tag in "abc" for i in range(30))
