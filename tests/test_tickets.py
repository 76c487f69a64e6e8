"""assistant/tickets.py and the ticket writes of the log: queue, claim, reply, resolve, review.

A real log file for every test; handoffs are made as the service makes them (an exchange with a
ticket) or with `open_ticket`, with chosen times so waits and orders are known.
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from assistant.assist import NO_MODELS, assist
from assistant.bank import BankEntry, ResponseBank
from assistant.errors import ClaimError, TicketError
from assistant.log import ConversationLog, export_training_data
from assistant.priority import PriorityRules
from assistant.ranker import ResponseRanker
from assistant.tickets import Tickets, read_corrections
from kb import Passage

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
LIST_KEYS = {
    "id",
    "conversation_id",
    "status",
    "priority",
    "priority_reason",
    "intent",
    "confidence",
    "assignee",
    "created",
    "waiting_s",
    "last_customer_text",
}


def at(minutes: float) -> str:
    """A log time `minutes` after T0."""
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "log.db"


@pytest.fixture
def log(db):
    with ConversationLog(db, synchronous="NORMAL") as log:
        yield log


@pytest.fixture
def tickets(log):
    t = Tickets(log)
    yield t
    t.close()


def handoff(
    log: ConversationLog,
    text: str,
    intent: str | None = "order_status",
    confidence: float = 0.9,
    minute: float = 0,
    ticket_id: str | None = None,
) -> tuple[str, str]:
    """A conversation whose customer wrote `text` at `minute` and was handed off then."""
    cid = log.new_conversation(started=at(minute))
    log.add_turn(cid, "customer", text, intent=intent, confidence=confidence, time=at(minute))
    tid = log.open_ticket(cid, "customer asked for a human", ticket_id=ticket_id, time=at(minute))
    return cid, tid


# -- the queue -------------------------------------------------------------------------------


def test_list_has_the_contract_keys_and_orders_by_priority_then_wait(log, tickets):
    _, calm = handoff(log, "where is my parcel?", minute=0)
    _, money = handoff(log, "my payment failed", intent="payment_failed", minute=5)
    _, newer = handoff(log, "where is my order?", minute=8)
    queue = tickets.list("open", now=now(9))
    assert [t.id for t in queue] == [money, calm, newer]  # high first; then the longest wait
    assert all(set(t.to_json()) == LIST_KEYS for t in queue)
    first = queue[0].to_json()
    assert first["priority"] == 3 and first["priority_reason"] == "payment_failed: high (3)"
    assert first["waiting_s"] == 240.0 and first["status"] == "open"
    assert first["last_customer_text"] == "my payment failed"
    assert (first["intent"], first["confidence"], first["assignee"]) == (
        "payment_failed",
        0.9,
        None,
    )
    json.dumps([t.to_json() for t in queue])  # JSON-ready


def test_priority_rules_urgency_frustration_waiting_and_a_manual_override(log, tickets):
    _, tid = handoff(log, "WHERE IS MY ORDER, I need it TODAY!!", minute=0)
    (ticket,) = tickets.list(now=now(31))
    assert ticket.priority == 5  # normal 2, urgency +1, frustration +1, waited past 10 and 30
    assert 'urgency "today" +1' in ticket.priority_reason
    assert 'frustration "!!" +1' in ticket.priority_reason
    assert "waiting 31 min (over 30) +2" in ticket.priority_reason
    tickets.set_priority(tid, 1, "ana")
    (ticket,) = tickets.list(now=now(31))
    assert (ticket.priority, ticket.priority_reason) == (1, "set to low by ana")
    tickets.set_priority(tid, None, "ana")
    assert tickets.list(now=now(31))[0].priority == 5
    with pytest.raises(TicketError, match="from 1"):
        tickets.set_priority(tid, 9, "ana")


def test_rules_from_a_toml_file_and_their_errors(tmp_path, log):
    path = tmp_path / "priority.toml"
    path.write_text("default = 1\nwait_minutes = [60]\n[intents]\norder_status = 4\n")
    rules = PriorityRules.load(path)
    assert rules.intents["order_status"] == 4 and rules.intents["payment_failed"] == 3
    handoff(log, "where is it", minute=0)
    (ticket,) = Tickets(log, rules).list(now=now(20))
    assert ticket.priority == 4 and "waiting" not in ticket.priority_reason
    path.write_text("[intents]\norder_status = 7\n")
    with pytest.raises(Exception, match=r"priority.toml: intents.order_status = 7"):
        PriorityRules.load(path)
    path.write_text("sla = 3\n")
    with pytest.raises(Exception, match=r"unknown key\(s\) \['sla'\]"):
        PriorityRules.load(path)


def test_waiting_stops_when_the_agent_replies_and_restarts_with_the_customer(log, tickets):
    cid, tid = handoff(log, "help", minute=0)
    assert tickets.list(now=now(5))[0].waiting_s == 300
    log.add_agent_reply(tid, "ana", "Hi, Ana here.", time=at(6))
    assert tickets.list(now=now(9))[0].waiting_s == 0
    log.add_turn(cid, "customer", "it is NH-48213", time=at(7))
    (ticket,) = tickets.list(now=now(9))
    assert ticket.waiting_s == 120 and ticket.last_customer_text == "it is NH-48213"
    assert ticket.intent == "order_status"  # the muted message has no intent: the last one that did


def test_status_and_agent_filters(log, tickets):
    _, a = handoff(log, "one", minute=0)
    _, b = handoff(log, "two", minute=1)
    _, c = handoff(log, "three", minute=2)
    tickets.claim(a, "ana")
    tickets.claim(b, "ben")
    tickets.resolve(c, "close", "ana")
    assert {t.id for t in tickets.list("open")} == {a, b}
    assert [t.id for t in tickets.list("mine", "ana")] == [a]
    assert [t.id for t in tickets.list("open", agent="ben")] == [b]
    assert [t.id for t in tickets.list("closed")] == [c]
    assert {t.id for t in tickets.list("all")} == {a, b, c}
    assert tickets.list("closed")[0].waiting_s == 0
    with pytest.raises(TicketError, match="--agent"):
        tickets.list("mine")
    with pytest.raises(TicketError, match="'pending'"):
        tickets.list("pending")


def test_a_write_from_another_connection_shows_in_the_next_list(db, log, tickets):
    cid, _ = handoff(log, "first", minute=0)
    seen = tickets.changes
    assert tickets.list()[0].last_customer_text == "first"
    assert tickets.changes == seen  # reading does not count as a change
    with ConversationLog(db) as other:
        other.add_turn(cid, "customer", "second")
    assert tickets.wait_for_change(seen, timeout=5) != seen
    assert tickets.list()[0].last_customer_text == "second"


# -- one ticket ------------------------------------------------------------------------------


def test_show_gives_the_transcript_notes_and_the_agents_name(log, tickets):
    cid, tid = handoff(log, "my card jo@example.com was charged twice", minute=0)
    log.add_turn(cid, "assistant", "Handing you over.", source="handoff", time=at(0))
    tickets.reply(tid, "Hi, Ana here. Checking now.", "ana")
    tickets.note(tid, "refund approved by finance", "ana")
    detail = tickets.show(tid)
    assert detail.ticket.assignee == "ana"  # replying claimed it
    assert [t.role for t in detail.transcript] == ["customer", "assistant", "agent"]
    assert detail.transcript[0].text == "my card [EMAIL] was charged twice"  # stored redacted
    assert detail.transcript[2].agent == "ana"
    assert set(detail.transcript[0].to_json()) == {
        "turn_id",
        "role",
        "text",
        "time",
        "intent",
        "confidence",
        "source",
    }
    assert [(n.agent, n.text) for n in detail.notes] == [("ana", "refund approved by finance")]
    assert detail.history()[-1] == ("agent", "Hi, Ana here. Checking now.")
    with pytest.raises(TicketError, match="no ticket 'T-00000'"):
        tickets.show("T-00000")


def test_an_internal_note_never_reaches_the_customer_or_the_export(log, tickets, tmp_path):
    cid, tid = handoff(log, "where is my order NH-48213", minute=0)
    tickets.note(tid, "SECRET-NOTE customer is a reseller", "ana")
    tickets.reply(tid, "It ships today.", "ana")
    assert all("SECRET-NOTE" not in t.text for t in log.transcript(cid))
    assert "SECRET-NOTE" not in str(log.view(cid))
    export_training_data(log, tmp_path / "out")
    for name in ("dialogues.jsonl", "intents.csv"):
        assert "SECRET-NOTE" not in (tmp_path / "out" / name).read_text()


# -- claims ----------------------------------------------------------------------------------


def test_a_claimed_ticket_names_its_holder(log, tickets):
    _, tid = handoff(log, "help", minute=0)
    assert tickets.claim(tid, "ana").assignee == "ana"
    assert tickets.claim(tid, "ana").assignee == "ana"  # claiming again changes nothing
    with pytest.raises(ClaimError, match="claimed by ana") as info:
        tickets.claim(tid, "ben")
    assert info.value.holder == "ana"
    with pytest.raises(ClaimError, match="claimed by ana"):
        tickets.reply(tid, "I'll take it", "ben")
    assert tickets.claim(tid, "ben", force=True).assignee == "ben"
    tickets.release(tid, "ben")
    assert tickets.get(tid).assignee is None
    with pytest.raises(TicketError, match="agent"):
        tickets.claim(tid, "  ")


def _race(db, ticket_ids, agent, barrier, results) -> None:
    with ConversationLog(db, check=False) as log:
        for tid in ticket_ids:
            barrier.wait()
            try:
                log.claim_ticket(tid, agent)
                results.append((tid, agent))
            except ClaimError as exc:
                results.append((tid, f"lost to {exc.holder}"))


def test_two_threads_claiming_at_once_one_wins_the_other_is_told_who(db, log):
    ids = [handoff(log, f"help {i}", minute=i)[1] for i in range(20)]
    barrier = threading.Barrier(2)
    results: list = []
    threads = [
        threading.Thread(target=_race, args=(db, ids, agent, barrier, results))
        for agent in ("ana", "ben")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    holders = {row["id"]: row["assignee"] for row in log.db.query("SELECT * FROM tickets")}
    for tid in ids:
        outcomes = sorted(o for t, o in results if t == tid)
        winner = holders[tid]
        loser = "ben" if winner == "ana" else "ana"
        assert outcomes == sorted([winner, f"lost to {winner}"]), (tid, outcomes, loser)


def _race_process(db, ticket_ids, agent, barrier, queue) -> None:
    results: list = []
    _race(db, ticket_ids, agent, barrier, results)
    queue.put(results)


def test_two_processes_claiming_at_once_one_wins(db, log):
    ids = [handoff(log, f"help {i}", minute=i)[1] for i in range(8)]
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_race_process, args=(str(db), ids, agent, barrier, queue))
        for agent in ("ana", "ben")
    ]
    for p in procs:
        p.start()
    results = queue.get(timeout=60) + queue.get(timeout=60)
    for p in procs:
        p.join(timeout=60)
    wins = [(t, o) for t, o in results if not o.startswith("lost")]
    assert sorted(t for t, _ in wins) == sorted(ids)  # each ticket won exactly once
    holders = {row["id"]: row["assignee"] for row in log.db.query("SELECT * FROM tickets")}
    assert all(holders[t] == o for t, o in wins)
    assert all(o == f"lost to {holders[t]}" for t, o in results if o.startswith("lost"))


# -- reply and resolve -----------------------------------------------------------------------


def test_a_reply_is_an_agent_turn_with_the_agents_name(log, tickets):
    cid, tid = handoff(log, "help", minute=0)
    turn_id = tickets.reply(tid, "Hi, Ana here.", "ana")
    view = log.view(cid)
    assert view.status == "human"
    (turn,) = [t for t in view.turns if t.id == turn_id]
    assert (turn.role, turn.text, turn.agent) == ("agent", "Hi, Ana here.", "ana")
    with pytest.raises(TicketError, match="empty"):
        tickets.reply(tid, "   ", "ana")


def test_resolve_hands_back_or_closes_and_cannot_be_done_twice(log, tickets):
    cid, tid = handoff(log, "help", minute=0)
    assert tickets.resolve(tid, "hand_back", "ana") == cid
    assert log.status(cid) == "bot"
    row = next(log.db.query("SELECT * FROM tickets WHERE id = ?", [tid]))
    assert (row["status"], row["resolution"], row["resolved_by"]) == ("closed", "hand_back", "ana")
    with pytest.raises(TicketError, match="already resolved \\(handed back to the bot by ana"):
        tickets.resolve(tid, "close", "ana")
    with pytest.raises(TicketError, match="already resolved"):
        tickets.reply(tid, "hello?", "ana")
    cid2, tid2 = handoff(log, "help", minute=1)
    tickets.resolve(tid2, "close", "ben")
    assert log.status(cid2) == "closed"
    with pytest.raises(TicketError, match="'later'"):
        tickets.resolve(tid2, "later")


# -- ratings, corrections, the review inbox --------------------------------------------------


def exchange(log, text, reply, *, intent, confidence, source, minute):
    cid = log.new_conversation(started=at(minute))
    q = log.add_turn(cid, "customer", text, intent=intent, confidence=confidence, time=at(minute))
    r = log.add_turn(cid, "assistant", reply, source=source, time=at(minute))
    return q, r


def test_ratings_corrections_and_confirmations_are_stored_with_agent_and_time(
    log, tickets, tmp_path
):
    q, r = exchange(
        log,
        "parcel never came",
        "Sorry?",
        intent="order_status",
        confidence=0.4,
        source="clarify",
        minute=0,
    )
    q2, _ = exchange(
        log,
        "where is my refund",
        "Refunds take 5-10 days.",
        intent="refund_status",
        confidence=0.95,
        source="ranker",
        minute=1,
    )
    tickets.rate(r, False, "ana")
    tickets.correct_intent(q, "missing_package", "ana", labels=["missing_package", "refund_status"])
    tickets.confirm_intent(q2, "ben")
    rows = list(log.db.query("SELECT * FROM corrections ORDER BY time"))
    assert [(x["turn_id"], x["corrected_intent"], x["agent"], x["kind"]) for x in rows] == [
        (q, "missing_package", "ana", "correct"),
        (q2, "refund_status", "ben", "confirm"),
    ]
    assert all(x["time"].endswith("Z") for x in rows)
    feedback = next(log.db.query("SELECT * FROM feedback"))
    assert (feedback["turn_id"], feedback["rating"], feedback["agent"]) == (r, -1, "ana")
    export_training_data(log, tmp_path / "out")
    labels = (tmp_path / "out" / "intents.csv").read_text()
    assert "parcel never came,missing_package" in labels  # what the retraining learns
    with pytest.raises(TicketError, match="not one of the model's 2 labels. Did you mean"):
        tickets.correct_intent(q, "missing_pakage", "ana", labels=["missing_package", "x"])
    with pytest.raises(TicketError, match="rate the bot's replies only"):
        tickets.rate(q, True, "ana")
    with pytest.raises(TicketError, match="no turn 'nope'"):
        tickets.correct_intent("nope", "order_status", "ana")


def test_the_review_inbox_groups_what_is_worth_a_look_and_drops_what_was_reviewed(log, tickets):
    low, _ = exchange(
        log, "hmm", "Sorry?", intent="order_status", confidence=0.3, source="clarify", minute=0
    )
    oos, _ = exchange(
        log, "tell a joke", "Outside.", intent="oos", confidence=0.8, source="oos", minute=1
    )
    fine, fine_reply = exchange(
        log,
        "where is it",
        "Here.",
        intent="order_status",
        confidence=0.9,
        source="ranker",
        minute=2,
    )
    exchange(
        log, "refund?", "Soon.", intent="refund_status", confidence=0.95, source="ranker", minute=3
    )
    assert {item.turn_id for g in tickets.review_inbox() for item in g.items} == {low, oos}
    log.add_feedback(fine_reply, -1)
    groups = tickets.review_inbox()
    assert [(g.intent, len(g.items)) for g in groups] == [("order_status", 2), ("oos", 1)]
    whys = {item.turn_id: item.why for g in groups for item in g.items}
    assert whys[low] == ["low confidence 0.30", "clarify"]
    assert whys[oos] == ["out of scope"] and whys[fine] == ["rated bad"]
    tickets.confirm_intent(oos, "ana")
    tickets.correct_intent(low, "missing_package", "ana")
    assert [item.turn_id for g in tickets.review_inbox() for item in g.items] == [fine]
    assert [item.turn_id for g in tickets.review_inbox(limit=0) for item in g.items] == []


def test_a_corrections_file_is_all_or_nothing_and_errors_name_file_and_line(log, tickets, tmp_path):
    q, _ = exchange(
        log, "hmm", "Sorry?", intent="order_status", confidence=0.3, source="clarify", minute=0
    )
    good = tmp_path / "fix.csv"
    good.write_text(f"turn_id,intent,agent\n{q},missing_package,ana\n{q},order_status,\n")
    rows, where = read_corrections(good, default_agent="ben")
    assert rows == [(q, "missing_package", "ana"), (q, "order_status", "ben")]
    assert where == [f"{good}:2", f"{good}:3"]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"turn_id,intent,agent\n{q},missing_package,ana\nnope,order_status,ana\n")
    rows, where = read_corrections(bad)
    with pytest.raises(TicketError, match=f"{bad}:3: no turn 'nope'"):
        tickets.correct_many(rows, where=where)
    assert not list(log.db.query("SELECT * FROM corrections"))  # nothing of the batch stored
    (tmp_path / "head.csv").write_text("id,label\n")
    with pytest.raises(TicketError, match="head.csv:1: the header"):
        read_corrections(tmp_path / "head.csv")
    (tmp_path / "noagent.csv").write_text(f"turn_id,intent,agent\n{q},x\n")
    with pytest.raises(TicketError, match="noagent.csv:2: no agent"):
        read_corrections(tmp_path / "noagent.csv")


# -- schema ----------------------------------------------------------------------------------


def test_a_version_2_log_is_migrated_and_keeps_its_tickets(db):
    from assistant.log import schema

    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied TEXT)")
    for number, migration in enumerate(schema.MIGRATIONS[:2], start=1):
        import sqlite_utils

        migration(sqlite_utils.Database(conn))
        conn.execute("INSERT INTO schema_version VALUES (?, 'then')", (number,))
    conn.execute("INSERT INTO conversations (id, started) VALUES ('c1', ?)", (at(0),))
    conn.execute(
        "INSERT INTO turns (id, conversation_id, seq, role, text, time) "
        "VALUES ('t1', 'c1', 1, 'customer', 'old message', ?)",
        (at(0),),
    )
    conn.execute(
        "INSERT INTO tickets (id, conversation_id, created) VALUES ('T-1', 'c1', ?)", (at(0),)
    )
    conn.commit()
    conn.close()
    with ConversationLog(db) as log:
        assert log.schema_version == schema.SCHEMA_VERSION
        (ticket,) = Tickets(log).list(now=now(1))
        assert (ticket.id, ticket.last_customer_text, ticket.assignee) == (
            "T-1",
            "old message",
            None,
        )
        Tickets(log).claim("T-1", "ana")


# -- suggestions -----------------------------------------------------------------------------


class _Encoder:
    dim = 2


class _Ranker:
    context_turns = 3
    context_text = ResponseRanker.context_text
    encoder = _Encoder()

    def __init__(self):
        self.seen: list[str] = []

    def encode_contexts(self, texts):
        self.seen += texts
        return np.array([[1.0, 0.0]] * len(texts), dtype=np.float32)


class _KB:
    def __init__(self):
        self.queries: list[str] = []

    def search(self, text, k=5):
        self.queries.append(text)
        p = Passage("orders/tracking", "Tracking", "Where is my order", "orders/t.md", 0.71, "Use…")
        return [p] * k


class _Engine:
    def __init__(self, kb=None):
        entries = [
            BankEntry("Thanks {name}, {order_number} ships today.", 5, {}),
            BankEntry("I have refunded {order_number}.", 2, {}),
            BankEntry("Anything else?", 9, {}),
        ]
        entries[1].agent_only = True  # what a curated bank marks
        emb = np.array([[0.9, 0.436], [0.8, 0.6], [0.1, 0.995]], dtype=np.float32)
        self.bank = ResponseBank(entries, emb)
        self.ranker = _Ranker()
        self.kb = kb
        self.kb_shares_ranker = False  # the KB has its own encoder: searched with the message


def test_assist_ranks_the_whole_bank_with_slots_filled_and_searches_the_kb():
    kb = _KB()
    engine = _Engine(kb)
    history = [
        ("customer", "hi I'm Sam, where is NH-48213?"),
        ("assistant", "Handing over."),
        ("agent", "Hi Sam, checking."),
    ]
    found = assist(engine, history, k=2, kb_k=1)
    assert [(s.text, s.agent_only) for s in found.suggestions] == [
        ("Thanks Sam, NH-48213 ships today.", False),
        ("I have refunded NH-48213.", True),
    ]
    assert found.suggestions[0].to_json() == {
        "text": "Thanks Sam, NH-48213 ships today.",
        "score": 0.9,
        "agent_only": False,
    }
    assert engine.ranker.seen[0].startswith("agent: Hi Sam, checking.")  # the whole conversation
    assert kb.queries == ["hi I'm Sam, where is NH-48213?"]
    assert found.passages_json() == [
        {
            "article_id": "orders/tracking",
            "title": "Tracking",
            "section": "Where is my order",
            "text": "Use…",
            "score": 0.71,
        }
    ]


def test_assist_without_models_says_so():
    found = assist(None, [("customer", "hi")])
    assert (found.suggestions, found.passages, found.note) == ([], [], NO_MODELS)
    assert assist(_Engine(), [("customer", "hi")]).note.startswith("no knowledge base")


def test_the_ticket_is_about_the_latest_message_that_says_what_it_is_about(log, tickets):
    cid = log.new_conversation(started=at(0))
    log.add_turn(
        cid, "customer", "my card was declined", intent="payment_failed", confidence=0.8, time=at(0)
    )
    log.add_turn(
        cid, "customer", "get me a human", intent="human_agent", confidence=0.9, time=at(1)
    )
    log.open_ticket(cid, "customer asked for a human", time=at(1))
    (ticket,) = tickets.list(now=now(2))
    assert (ticket.intent, ticket.confidence, ticket.priority) == ("payment_failed", 0.8, 3)
    only = log.new_conversation(started=at(0))
    log.add_turn(only, "customer", "human please", intent="human_agent", confidence=0.9, time=at(0))
    log.open_ticket(only, "customer asked for a human", time=at(0))
    assert "human_agent" in [t.intent for t in tickets.list(now=now(2))]


def test_suggestions_skip_the_handoff_notice_know_the_ticket_and_drop_near_duplicates(log, tickets):
    cid, tid = handoff(log, "hi I'm Sam, NH-48213 is late", minute=0)
    log.add_turn(cid, "assistant", "Handing you to a person.", source="handoff", time=at(0))
    detail = tickets.show(tid)
    assert detail.context() == [("customer", "hi I'm Sam, NH-48213 is late")]
    assert detail.slots() == {"ticket_number": tid}
    engine = _Engine()
    engine.bank = ResponseBank(
        [
            BankEntry("Ticket {ticket_number} is with our team, {name}: 3 days.", 1, {}),
            BankEntry("Ticket {ticket_number} is with our team, {name}: 5 days.", 1, {}),
            BankEntry("Anything else?", 1, {}),
        ],
        np.array([[0.9, 0.436], [0.89, 0.456], [0.1, 0.995]], dtype=np.float32),
    )
    found = assist(engine, detail.context(), slots=detail.slots())
    assert [s.text for s in found.suggestions] == [
        f"Ticket {tid} is with our team, Sam: 3 days.",
        "Anything else?",
    ]


def test_every_change_of_an_open_ticket_moves_its_version(log):
    cid, tid = handoff(log, "help", minute=0)
    other_cid, other = handoff(log, "help too", minute=0)

    def version(ticket_id):
        return next(log.db.query("SELECT version FROM tickets WHERE id = ?", [ticket_id]))[
            "version"
        ]

    seen = [version(tid)]
    for change in (
        lambda: log.add_turn(cid, "customer", "hello?"),
        lambda: log.claim_ticket(tid, "ana"),
        lambda: log.add_agent_reply(tid, "ana", "Hi"),
        lambda: log.set_ticket_priority(tid, 4, "ana"),
        lambda: log.resolve_ticket(tid, "hand_back", "ana"),
    ):
        untouched = version(other)
        change()
        seen.append(version(tid))
        assert version(other) == untouched
    assert seen == sorted(set(seen))  # strictly growing
    log.add_turn(cid, "customer", "back with the bot")  # the ticket is closed: no change
    assert version(tid) == seen[-1]
    assert version(other) < seen[-1]
    log.add_turn(other_cid, "customer", "still there?")
    assert version(other) > seen[-1]


def test_the_open_queue_follows_other_connections_incrementally(db, log, tickets):
    cid, a = handoff(log, "one", minute=0)
    gone_cid, b = handoff(log, "two", minute=1)
    assert {t.id for t in tickets.list()} == {a, b}
    with ConversationLog(db) as other:
        other.claim_ticket(a, "ben")
        other.add_turn(cid, "customer", "any news?")
        _, c = handoff(other, "three", minute=2)
    queue = {t.id: t for t in tickets.list()}
    assert set(queue) == {a, b, c}
    assert (queue[a].assignee, queue[a].last_customer_text) == ("ben", "any news?")
    with ConversationLog(db) as other:
        other.resolve_ticket(c, "close", "ben")
        other.db.execute("PRAGMA foreign_keys = ON")
        with other.db.conn:
            other.db.execute("DELETE FROM conversations WHERE id = ?", [gone_cid])
    assert {t.id for t in tickets.list()} == {a}


def test_barred_entries_are_not_suggested_and_unknown_slots_stay_visible():
    engine = _Engine()
    engine.bank.entries[0].status = "barred"
    found = assist(engine, [("customer", "where is my parcel?")], k=2)
    assert [s.text for s in found.suggestions] == [
        "I have refunded [order number].",
        "Anything else?",
    ]


def test_a_mined_reply_never_shows_another_customers_ticket_or_order_number():
    engine = _Engine()
    engine.bank.entries[0].text = "Forwarded as ticket T-20167 about order NH-55555."
    history = [("customer", "my order NH-48213 never came")]
    found = assist(engine, history, slots={"ticket_number": "T-83331"}, k=1)
    assert found.suggestions[0].text == "Forwarded as ticket T-83331 about order NH-48213."
    # without a ticket of its own the number is a slot for the agent to fill
    found = assist(engine, [("customer", "hello")], k=1)
    assert (
        found.suggestions[0].text
        == "Forwarded as ticket [ticket number] about order [order number]."
    )
    # a number this conversation holds stays as written
    engine.bank.entries[0].text = "Forwarded as ticket T-83331."
    found = assist(engine, history, slots={"ticket_number": "T-83331"}, k=1)
    assert found.suggestions[0].text == "Forwarded as ticket T-83331."
