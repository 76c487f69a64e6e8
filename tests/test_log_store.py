"""assistant/log/store.py: ConversationLog writes and reads, and what reaches the file."""

from __future__ import annotations

import json
import re
import sqlite3
import threading

import pytest

from assistant.errors import LogError
from assistant.log import ConversationLog, ConversationState, new_id
from assistant.redact import RedactionConfig
from assistant.reply import Candidate, Citation, ConversationSummary, Reply, TurnRecord

EMAIL = "jo.secret@example.com"
CARD = "4111 1111 1111 1111"
CARD_BARE = "4111111111111111"
PHONE = "+1 (555) 010-4242"


@pytest.fixture
def log():
    """An in-memory log."""
    with ConversationLog(":memory:") as log:
        yield log


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "conversations.db"


def raw_bytes(db_path) -> bytes:
    """The database file and its WAL/journal, as they are on disk."""
    data = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = db_path.with_name(db_path.name + suffix)
        if path.exists():
            data += path.read_bytes()
    return data


def assert_no_secrets(raw: bytes) -> None:
    for secret in (EMAIL, CARD, CARD_BARE, PHONE, "010-4242"):
        assert secret.encode() not in raw, secret


# -- writes and reads ---------------------------------------------------------------------------


def test_turn_round_trip(log):
    cid = log.new_conversation(channel="web", metadata={"locale": "en-US"})
    candidates = [Candidate("Your order shipped.", 0.82, ["order_status"])]
    citations = [Citation("orders/tracking", "Tracking", "", "orders/tracking.md", 0.7, "...")]
    c1 = log.add_turn(
        cid,
        "customer",
        "where is NH-48213?",
        intent="order_status",
        confidence=0.97,
        top_intents=[("order_status", 0.97), ("missing_package", 0.02)],
    )
    a1 = log.add_turn(
        cid,
        "assistant",
        "Your order shipped.",
        source="ranker",
        reason="ranker score 0.82 >= 0.55",
        candidates=candidates,
        citations=citations,
        model_versions={"intent": "v1", "ranker": "v1"},
        latency_ms=12.5,
    )
    assert re.fullmatch(r"[0-9a-f]{32}", c1) and re.fullmatch(r"[0-9a-f]{32}", a1)
    transcript = log.transcript(cid)
    assert [t.id for t in transcript] == [c1, a1]
    assert transcript[0] == TurnRecord(
        id=c1,
        role="customer",
        text="where is NH-48213?",
        time=transcript[0].time,
        intent="order_status",
        confidence=0.97,
        seq=1,
    )
    assert (transcript[1].source, transcript[1].seq) == ("ranker", 2)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", transcript[0].time)

    row = log.db.table("turns").get(a1)
    assert row["seq"] == 2 and row["conversation_id"] == cid
    assert Candidate(**json.loads(row["candidates"])[0]) == candidates[0]
    assert Citation(**json.loads(row["citations"])[0]) == citations[0]
    assert json.loads(row["model_versions"]) == {"intent": "v1", "ranker": "v1"}
    assert row["latency_ms"] == 12.5 and row["reason"] == "ranker score 0.82 >= 0.55"
    assert json.loads(log.db.table("turns").get(c1)["top_intents"])[0] == ["order_status", 0.97]
    assert json.loads(log.db.table("conversations").get(cid)["metadata"]) == {"locale": "en-US"}


def test_pre_generated_ids_and_times_are_used(log):
    cid = log.new_conversation(conversation_id="c1", started="2026-01-01T00:00:00.000Z")
    tid = log.add_turn(cid, "customer", "hi", turn_id="t1", time="2026-01-01T00:00:01.000Z")
    assert (cid, tid) == ("c1", "t1")
    assert log.transcript("c1")[0].time == "2026-01-01T00:00:01.000Z"


def test_add_turn_validates_its_arguments(log):
    cid = log.new_conversation()
    with pytest.raises(LogError, match="role='bot'"):
        log.add_turn(cid, "bot", "hi")
    with pytest.raises(TypeError, match="intnet"):
        log.add_turn(cid, "customer", "hi", intnet="greeting")
    with pytest.raises(LogError, match="str"):
        log.add_turn(cid, "customer", None)
    assert log.transcript(cid) == []


def test_seq_orders_turns_and_reads_slice_them(log):
    cid = log.new_conversation()
    ids = [log.add_turn(cid, "customer" if i % 2 == 0 else "assistant", f"m{i}") for i in range(6)]
    assert [t.id for t in log.recent_turns(cid, 3)] == ids[3:]
    assert [t.text for t in log.recent_turns(cid, 100)] == [f"m{i}" for i in range(6)]
    assert log.recent_turns(cid, 0) == []
    assert [t.seq for t in log.transcript(cid, after_seq=4)] == [5, 6]
    assert log.transcript("unknown") == []


def test_feedback_latest_rating_counts(log):
    cid = log.new_conversation()
    log.add_turn(cid, "customer", "hi")
    tid = log.add_turn(cid, "assistant", "Hello!")
    fid = log.add_feedback(tid, 1, "nice")
    assert log.transcript(cid)[1].rating == 1
    log.add_feedback(tid, -1, "actually no")
    assert [t.rating for t in log.transcript(cid)] == [None, -1]
    assert log.db.table("feedback").get(fid)["comment"] == "nice"
    for bad in (0, 2, True, "+1"):
        with pytest.raises(LogError, match="rating"):
            log.add_feedback(tid, bad)


def test_corrections_are_stored(log):
    cid = log.new_conversation()
    tid = log.add_turn(cid, "customer", "my thermostat is cold", intent="device_offline")
    xid = log.add_correction(tid, corrected_intent="thermostat_issue", agent="ana")
    row = log.db.table("corrections").get(xid)
    assert (row["turn_id"], row["corrected_intent"], row["corrected_reply"], row["agent"]) == (
        tid,
        "thermostat_issue",
        None,
        "ana",
    )
    with pytest.raises(LogError, match="corrected_intent, corrected_reply"):
        log.add_correction(tid)


def test_ticket_open_and_hand_back(log):
    cid = log.new_conversation()
    assert log.status(cid) == "bot"
    first = log.open_ticket(cid, "customer asked for a human")
    assert re.fullmatch(r"T-\d{5}", first)
    assert log.status(cid) == "human"
    second = log.open_ticket(cid, "still stuck")
    assert second != first
    log.hand_back(cid)
    assert log.status(cid) == "bot"
    tickets = list(log.db.query("SELECT * FROM tickets ORDER BY created"))
    assert {t["status"] for t in tickets} == {"closed"}
    assert all(t["closed"] >= t["created"] for t in tickets)
    log.close_conversation(cid)
    assert log.status(cid) == "closed"


def test_unknown_conversation_status_and_hand_back(log):
    assert log.status("no-such") is None
    with pytest.raises(LogError, match="no-such"):
        log.hand_back("no-such")


def test_conversations_newest_first_with_preview(log):
    old = log.new_conversation(started="2026-01-01T00:00:00.000Z")
    log.add_turn(old, "assistant", "Hi! How can I help?")
    log.add_turn(old, "customer", "refund please")
    new = log.new_conversation(started="2026-02-01T00:00:00.000Z")
    log.open_ticket(new, "human please")
    assert log.conversations() == [
        ConversationSummary(new, "2026-02-01T00:00:00.000Z", 0, "", "human"),
        ConversationSummary(old, "2026-01-01T00:00:00.000Z", 2, "refund please", "bot"),
    ]
    assert [c.id for c in log.conversations(limit=1)] == [new]


def test_deleting_a_conversation_cascades(log):
    cid = log.new_conversation()
    tid = log.add_turn(cid, "customer", "delete my data")
    log.add_feedback(tid, 1)
    log.add_correction(tid, corrected_intent="delete_account")
    log.open_ticket(cid, "erase")
    log.db.execute("DELETE FROM conversations WHERE id = ?", [cid])
    for table in ("turns", "feedback", "corrections", "tickets"):
        assert log.db.table(table).count == 0, table


def test_closed_log_raises_log_error(db_path):
    log = ConversationLog(db_path)
    cid = log.new_conversation()
    log.close()
    log.close()  # idempotent
    with pytest.raises(LogError):
        log.add_turn(cid, "customer", "hi")
    with pytest.raises(LogError):
        log.transcript(cid)


# -- exchanges: one reply record, one transaction -----------------------------------------------


def reply(cid: str, **fields) -> Reply:
    base = dict(
        reply="It shipped yesterday.",
        source="ranker",
        reason="best reply scores 0.82 >= 0.55",
        conversation_id=cid,
        turn_id=new_id(),
        intent="order_status",
        confidence=0.97,
        top_intents=[("order_status", 0.97), ("refund_status", 0.02)],
        candidates=[Candidate("It shipped yesterday.", 0.82, ["order_status"])],
        citations=[Citation("orders/tracking", "Tracking", "Where", "orders/tracking.md", 0.5)],
        latency_ms=12.25,
    )
    return Reply(**{**base, **fields})


def test_an_exchange_stores_the_reply_record_as_it_is(log):
    cid = log.new_conversation()
    r = reply(cid)
    message_id = log.add_exchange(cid, "where is NH-48213?", r, model_versions={"intent": "v1"})
    customer, answer = log.db.query("SELECT * FROM turns ORDER BY seq")
    assert customer["id"] == message_id and customer["role"] == "customer"
    assert (customer["text"], customer["intent"], customer["confidence"]) == (
        "where is NH-48213?",
        "order_status",
        0.97,
    )
    assert json.loads(customer["top_intents"]) == [["order_status", 0.97], ["refund_status", 0.02]]
    assert customer["source"] is None and customer["candidates"] is None
    assert answer["id"] == r.turn_id and answer["text"] == r.reply
    assert (answer["source"], answer["reason"], answer["latency_ms"]) == (
        r.source,
        r.reason,
        12.25,
    )
    # Every field of every candidate and citation, not a hand-picked copy.
    assert [Candidate(**c) for c in json.loads(answer["candidates"])] == r.candidates
    assert [Citation(**c) for c in json.loads(answer["citations"])] == r.citations
    assert json.loads(answer["model_versions"]) == {"intent": "v1"}
    assert answer["intent"] is None  # what the message means lives on the customer turn


def test_a_handoff_exchange_opens_its_ticket_in_the_same_write(log):
    cid = log.new_conversation()
    r = reply(cid, source="handoff", reason="customer asked for a human", ticket_id="T-12345")
    log.add_exchange(cid, "a human please", r)
    assert log.status(cid) == "human"
    ticket = log.db.table("tickets").get("T-12345")
    assert (ticket["conversation_id"], ticket["reason"], ticket["status"]) == (
        cid,
        "customer asked for a human",
        "open",
    )
    # Pressing "talk to a human" has no customer message: only the ticket and the reply.
    other = log.new_conversation()
    assert log.add_exchange(other, None, reply(other, ticket_id="T-54321")) is None
    assert [t.role for t in log.transcript(other)] == ["assistant"]


def test_a_muted_exchange_stores_the_message_alone(log):
    cid = log.new_conversation()
    muted = Reply("", "muted", "handed off: waiting for an agent", cid, "")
    log.add_exchange(cid, "hello? anyone?", muted)
    (turn,) = log.transcript(cid)
    assert (turn.role, turn.text, turn.intent, turn.confidence) == (
        "customer",
        "hello? anyone?",
        None,
        None,
    )


def test_a_failed_exchange_writes_nothing_of_it(log):
    cid = log.new_conversation()
    log.open_ticket(cid, "first", ticket_id="T-11111")
    with pytest.raises(LogError, match="add_exchange"):
        log.add_exchange(cid, "hello", reply(cid, ticket_id="T-11111"))  # the ticket id is taken
    assert log.transcript(cid) == []


# -- state and views: one read each -------------------------------------------------------------


def test_state_derives_status_history_and_streak_from_the_rows(log):
    assert log.state("no-such") == ConversationState(status=None)
    cid = log.new_conversation()
    log.add_turn(cid, "customer", f"I am Ann, {EMAIL}")
    log.add_turn(cid, "assistant", "Which order?", source="clarify")
    log.add_turn(cid, "customer", "the blue one")
    log.add_turn(cid, "assistant", "(bot muted)", source="muted")
    state = log.state(cid)
    assert state.status == "bot" and state.last_seq == 4
    assert state.history == [
        ("customer", "I am Ann, [EMAIL]"),
        ("assistant", "Which order?"),
        ("customer", "the blue one"),
    ]
    assert state.low_streak == 0  # the muted turn ended the run of clarifications


def test_view_returns_the_status_and_the_turns_after_a_seq(log):
    cid = log.new_conversation()
    log.add_turn(cid, "customer", "hi")
    log.open_ticket(cid, "wants a person")
    agent = log.add_turn(cid, "agent", "Hi, Ana here.")
    view = log.view(cid, after_seq=1)
    assert (view.id, view.status, [t.id for t in view.turns]) == (cid, "human", [agent])
    assert log.view("no-such").status is None


def test_a_second_connection_sees_every_write_at_once(db_path):
    with ConversationLog(db_path) as mine, ConversationLog(db_path) as agents:
        cid = mine.new_conversation()
        mine.add_turn(cid, "customer", "hello?")
        agents.open_ticket(cid, "picked up by an agent")
        agents.add_turn(cid, "agent", "Hi, Ana here.")
        assert mine.state(cid).history[-1] == ("agent", "Hi, Ana here.")
        agents.hand_back(cid)
        assert mine.status(cid) == "bot"


# -- concurrency --------------------------------------------------------------------------------


def test_log_is_safe_to_share_between_threads(log):
    cid = log.new_conversation()

    def work(k):
        for i in range(25):
            log.add_turn(cid, "customer", f"{k}-{i}")
            log.state(cid)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seqs = [r["seq"] for r in log.db.query("SELECT seq FROM turns ORDER BY seq")]
    assert seqs == list(range(1, 101))


def test_a_write_waits_for_another_connections_lock(db_path):
    with ConversationLog(db_path, synchronous="NORMAL") as log:
        cid = log.new_conversation()
        other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        writing = threading.Thread(target=log.add_turn, args=(cid, "customer", "waited"))
        writing.start()
        writing.join(timeout=0.3)
        assert writing.is_alive()  # waiting on the busy timeout, not failing
        other.execute("COMMIT")
        writing.join(timeout=10)
        other.close()
        assert [t.text for t in log.transcript(cid)] == ["waited"]


# -- redaction on disk --------------------------------------------------------------------------


def write_secrets(log: ConversationLog) -> str:
    cid = log.new_conversation(metadata={"customer_email": EMAIL})
    c = log.add_turn(cid, "customer", f"I am {EMAIL}, card {CARD}, phone {PHONE}")
    a = log.add_turn(
        cid,
        "assistant",
        f"We will email {EMAIL}",
        reason=f"matched {EMAIL}",
        candidates=[Candidate(f"We will email {EMAIL}", 0.9)],
        citations=[Citation("a/b", "T", "", "a/b.md", 0.5, f"card {CARD_BARE}")],
    )
    log.add_feedback(a, -1, f"wrong, mail {EMAIL}")
    log.add_correction(a, corrected_reply=f"We will call {PHONE}", agent="ana")
    log.open_ticket(cid, f"card {CARD_BARE} declined")
    log.add_turn(cid, "agent", f"Got it, {EMAIL}")
    secret_reply = reply(
        cid,
        reply=f"Call us on {PHONE}",
        reason=f"{EMAIL} asked",
        candidates=[Candidate(f"mail {EMAIL}", 0.5)],
        ticket_id="T-99999",
    )
    log.add_exchange(cid, f"my card is {CARD}", secret_reply)
    return c


def test_secrets_never_reach_the_file(db_path):
    log = ConversationLog(db_path, synchronous="NORMAL")
    customer = write_secrets(log)
    assert db_path.with_name(db_path.name + "-wal").exists()
    assert_no_secrets(raw_bytes(db_path))  # while the WAL holds the writes
    row = log.db.table("turns").get(customer)
    assert row["text"] == "I am [EMAIL], card [CARD], phone [PHONE]"
    assert json.loads(row["redactions"]) == ["email", "phone", "card"]
    assert b"[EMAIL]" in raw_bytes(db_path)  # the check reads the right bytes
    log.close()
    assert_no_secrets(raw_bytes(db_path))  # after the checkpoint into the main file


def test_text_redacted_by_the_log_is_stored_as_it_is(log, monkeypatch):
    from assistant.log import columns

    calls: list[str] = []
    real = columns.redact
    monkeypatch.setattr(
        columns, "redact", lambda text, config: calls.append(text) or real(text, config)
    )
    message = log.redact(f"I am {EMAIL}")
    cid = log.new_conversation()
    tid = log.add_turn(cid, "customer", message)
    assert calls.count(f"I am {EMAIL}") == 1 and "I am [EMAIL]" not in calls
    row = log.db.table("turns").get(tid)
    assert row["text"] == "I am [EMAIL]" and json.loads(row["redactions"]) == ["email"]


def test_redaction_can_be_turned_off(db_path):
    off = RedactionConfig(emails=False, phones=False, cards=False)
    with ConversationLog(db_path, off, synchronous="NORMAL") as log:
        cid = log.new_conversation()
        tid = log.add_turn(cid, "customer", f"I am {EMAIL}")
        assert log.transcript(cid)[0].text == f"I am {EMAIL}"
        assert json.loads(log.db.table("turns").get(tid)["redactions"]) == []
    assert EMAIL.encode() in raw_bytes(db_path)
