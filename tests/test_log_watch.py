"""assistant/log/watch.py: changes by other connections and processes are noticed."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from assistant.log import ConversationLog, LogWatcher, LogWriter


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "conversations.db"


def test_a_commit_by_another_connection_is_noticed(db_path):
    with ConversationLog(db_path) as log, LogWatcher(log, interval=0.01) as watcher:
        assert watcher.changes == 0
        with ConversationLog(db_path) as other:
            cid = other.new_conversation()
        assert watcher.wait(0, timeout=10) == 1
        log.add_turn(cid, "customer", "hello")  # the watched log's own connection counts too
        assert watcher.wait(1, timeout=10) == 2


def test_a_commit_by_another_process_is_noticed(db_path):
    with ConversationLog(db_path) as log, LogWatcher(log, interval=0.01) as watcher:
        cid = log.new_conversation()
        seen = watcher.changes
        script = (
            "import sys; from assistant.log import ConversationLog; "
            "log = ConversationLog(sys.argv[1]); log.open_ticket(sys.argv[2], 'agent'); "
            "log.hand_back(sys.argv[2])"
        )
        subprocess.run([sys.executable, "-c", script, str(db_path), cid], check=True)
        assert watcher.wait(seen, timeout=10) > seen
        assert log.status(cid) == "bot"


def test_without_a_change_wait_returns_the_same_count_after_the_timeout(db_path):
    with ConversationLog(db_path) as log, LogWatcher(log, interval=0.01) as watcher:
        log.new_conversation()
        seen = watcher.wait(0, timeout=10)
        log.status("anything")  # reads do not count
        assert watcher.wait(seen, timeout=0.05) == seen


def test_close_wakes_a_waiter(db_path):
    with ConversationLog(db_path) as log:
        watcher = LogWatcher(log)
        done = threading.Event()

        def wait_forever() -> None:
            watcher.wait(0, timeout=None)
            done.set()

        threading.Thread(target=wait_forever).start()
        watcher.close()
        assert done.wait(timeout=10)
        watcher.close()  # idempotent


def test_a_memory_log_is_watched_through_its_one_connection():
    with ConversationLog(":memory:") as log, LogWatcher(log, interval=0.01) as watcher:
        with LogWriter(log) as writer:  # shares the connection of a ":memory:" log
            writer.submit(ConversationLog.new_conversation, conversation_id="c1")
        assert watcher.wait(0, timeout=10) == 1
