"""assistant/log/writer.py: any store write on a background thread, nothing lost."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from assistant.errors import LogError
from assistant.log import ConversationLog, LogWriter, new_id, utc_now
from assistant.reply import Reply

EMAIL = "jo.secret@example.com"


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "conversations.db"


@pytest.fixture
def file_log(db_path):
    with ConversationLog(db_path, synchronous="NORMAL") as log:
        yield log


@pytest.fixture
def log():
    with ConversationLog(":memory:") as log:
        yield log


class HeldLock:
    """Another connection holding the write lock, so the writer's jobs stay queued."""

    def __init__(self, db_path) -> None:
        self.conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()


def test_writes_run_in_order_with_ids_known_up_front(file_log):
    cid, customer, answer = new_id(), new_id(), new_id()
    with LogWriter(file_log) as writer:
        writer.submit(ConversationLog.new_conversation, "web", conversation_id=cid)
        writer.submit(ConversationLog.add_turn, cid, "customer", "hi", turn_id=customer)
        writer.submit(
            ConversationLog.add_exchange,
            cid,
            "and again",
            Reply("Hello!", "ranker", "r", cid, answer),
            time=utc_now(),
        )
        writer.submit(ConversationLog.add_feedback, answer, 1)
        writer.submit(ConversationLog.open_ticket, cid, "a person", ticket_id="T-10001")
        writer.flush(timeout=10)
        turns = file_log.transcript(cid)
        assert [t.id for t in turns][:1] == [customer] and turns[-1].id == answer
        assert turns[-1].rating == 1 and file_log.status(cid) == "human"
        writer.submit(ConversationLog.hand_back, cid)
    assert file_log.status(cid) == "bot"


def test_a_wrong_call_raises_at_the_call_site(log):
    with LogWriter(log) as writer:
        with pytest.raises(
            LogError, match="ConversationLog.status' is not a ConversationLog write"
        ):
            writer.submit(ConversationLog.status, "c1")
        with pytest.raises(LogError, match="unexpected keyword argument 'intnet'"):
            writer.submit(ConversationLog.add_turn, "c1", "customer", "hi", intnet="x")
        with pytest.raises(LogError, match="missing a required argument: 'rating'"):
            writer.submit(ConversationLog.add_feedback, "t1")
        with pytest.raises(LogError, match="write method"):
            writer.submit(print, "hello")
        assert writer.pending == 0 and writer.failed == []


def test_close_writes_everything_queued(file_log, db_path):
    lock = HeldLock(db_path)
    writer = LogWriter(file_log)
    cid = new_id()
    writer.submit(ConversationLog.new_conversation, conversation_id=cid)
    ids = [new_id() for _ in range(50)]
    for i, tid in enumerate(ids):
        writer.submit(ConversationLog.add_turn, cid, "customer", f"message {i}", turn_id=tid)
    assert writer.pending >= 50  # the thread waits for the lock; submitting did not
    lock.release()
    writer.close()
    assert writer.pending == 0
    assert [t.id for t in file_log.transcript(cid)] == ids


def test_close_on_a_file_log_loses_nothing(db_path):
    log = ConversationLog(db_path, synchronous="NORMAL")
    writer = LogWriter(log)
    cid = new_id()
    writer.submit(ConversationLog.new_conversation, conversation_id=cid)
    for i in range(300):
        writer.submit(ConversationLog.add_turn, cid, "customer", f"message {i}")
    writer.close()
    log.close()
    with ConversationLog(db_path) as reopened:
        assert [t.text for t in reopened.transcript(cid)] == [f"message {i}" for i in range(300)]


def test_failures_are_reported_not_kept_for_a_retry_and_the_writer_keeps_going(log):
    reported = []
    writer = LogWriter(log, on_failure=reported.append)
    cid = new_id()
    writer.submit(ConversationLog.new_conversation, conversation_id=cid)
    writer.submit(ConversationLog.add_turn, "no-such-conversation", "customer", f"secret {EMAIL}")
    good = new_id()
    writer.submit(ConversationLog.add_turn, cid, "customer", "after the failure", turn_id=good)
    with pytest.raises(LogError, match="1 conversation-log write.* failed and were not saved"):
        writer.flush(timeout=10)
    assert [f.method for f in reported] == ["add_turn"]  # told at once, on the writer thread
    assert [t.id for t in log.transcript(cid)] == [good]
    (failed,) = writer.failed
    assert failed.method == "add_turn" and failed.args[0] == "no-such-conversation"
    assert EMAIL not in repr(failed)
    writer.flush(timeout=10)  # a flush reports what is new since the last one
    with pytest.raises(LogError, match="not saved") as info:
        writer.close()  # ... but close says it every time: the exit status must show it
    assert EMAIL not in str(info.value)  # messages never carry customer text
    assert "retry" not in str(info.value)
    with pytest.raises(LogError, match="not saved"):
        writer.close()


def test_close_raises_for_failures_and_writes_what_came_after(log):
    writer = LogWriter(log)
    writer.submit(ConversationLog.add_feedback, "no-such-turn", 1)
    writer.submit(ConversationLog.new_conversation, conversation_id="c1")
    with pytest.raises(LogError, match="add_feedback"):
        writer.close()
    assert log.status("c1") == "bot"  # queued after the failure, still written


def test_refuses_writes_after_close(log):
    writer = LogWriter(log)
    writer.close()
    with pytest.raises(LogError, match="closed"):
        writer.submit(ConversationLog.new_conversation)


def test_flush_timeout_says_the_writes_go_on(file_log, db_path):
    lock = HeldLock(db_path)
    writer = LogWriter(file_log)
    writer.submit(ConversationLog.new_conversation, conversation_id="c1")
    with pytest.raises(LogError, match="still pending"):
        writer.flush(timeout=0.05)
    lock.release()
    writer.close()
    assert file_log.status("c1") == "bot"


def test_the_thread_waits_while_a_caller_does_not(file_log, db_path):
    """Submitting returns while the database is locked; the write lands once it is free."""
    lock = HeldLock(db_path)
    writer = LogWriter(file_log)
    submitted = threading.Event()

    def caller() -> None:
        writer.submit(ConversationLog.new_conversation, conversation_id="c1")
        submitted.set()

    threading.Thread(target=caller).start()
    assert submitted.wait(timeout=5)
    assert file_log.status("c1") is None
    lock.release()
    writer.flush(timeout=10)
    assert file_log.status("c1") == "bot"
    writer.close()


def test_secrets_never_reach_the_file_through_the_writer(db_path):
    log = ConversationLog(db_path, synchronous="NORMAL")
    with LogWriter(log) as writer:
        cid = new_id()
        writer.submit(
            ConversationLog.new_conversation, metadata={"email": EMAIL}, conversation_id=cid
        )
        writer.submit(ConversationLog.add_turn, cid, "customer", f"I am {EMAIL}")
        writer.submit(ConversationLog.open_ticket, cid, f"{EMAIL} is angry")
    log.close()
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    assert EMAIL.encode() not in raw and b"[EMAIL]" in raw


# -- busy logs and back-pressure ------------------------------------------------------------------


def test_a_busy_log_fails_a_write_after_busy_wait_and_says_why(file_log, db_path):
    lock = HeldLock(db_path)
    writer = LogWriter(file_log, busy_wait=0.5)
    writer.submit(ConversationLog.new_conversation, conversation_id="c1")
    with pytest.raises(LogError, match="stayed busy .* for 0.5 s"):
        writer.flush(timeout=10)
    lock.release()
    with pytest.raises(LogError, match="new_conversation"):
        writer.close()
    assert file_log.status("c1") is None


def test_a_write_waits_for_a_lock_released_within_busy_wait(file_log, db_path):
    lock = HeldLock(db_path)
    writer = LogWriter(file_log, busy_wait=30)
    writer.submit(ConversationLog.new_conversation, conversation_id="c1")
    assert not writer.wait(0.3)  # retried in slices while the lock is held
    lock.release()
    writer.flush(timeout=10)
    writer.close()
    assert file_log.status("c1") == "bot"


def test_the_queue_is_bounded_and_pushes_back(file_log, db_path):
    lock = HeldLock(db_path)
    writer = LogWriter(file_log, busy_wait=0.3, max_queued=3)
    accepted = 0
    with pytest.raises(LogError, match="3 conversation-log writes are waiting"):
        for i in range(10):
            writer.submit(ConversationLog.new_conversation, conversation_id=f"c{i}")
            accepted += 1
    # A write that stays busy for 0.3 s fails and makes room; never 10 in memory.
    assert 3 <= accepted < 10 and writer.pending <= 3
    lock.release()
    try:
        writer.close()
    except LogError as exc:  # the writes that stayed busy are reported, not dropped silently
        assert "not saved" in str(exc)
    stored = sum(file_log.status(f"c{i}") == "bot" for i in range(10))
    assert stored + len(writer.failed) == accepted
