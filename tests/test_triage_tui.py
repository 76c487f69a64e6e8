"""The triage console (`assistant triage`), driven with Pilot.

The first tests run it over an in-memory fake desk (what the screen does with keys, filters,
suggestions and the review inbox); the last ones run two consoles and the customer's chat on
one real log file, as agents and customers would (a claim race, an agent's reply reaching the
customer's open chat, corrections stored with the agent's name).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

import pytest

pytest.importorskip("textual")

from textual.widgets import DataTable, Input, OptionList  # noqa: E402

from assistant.assist import Assist, Suggestion  # noqa: E402
from assistant.errors import ClaimError  # noqa: E402
from assistant.reply import Citation  # noqa: E402
from assistant.tickets import (  # noqa: E402
    Note,
    ReviewGroup,
    ReviewItem,
    Ticket,
    TicketDetail,
    TranscriptTurn,
)
from assistant.tui.triage import (  # noqa: E402
    PickScreen,
    QueueFilter,
    ReviewTree,
    TriageApp,
    TriageHelp,
    TurnItem,
)

SIZE = (160, 45)


# -- waiting on the app ------------------------------------------------------------------------


async def until(pilot, condition, timeout: float = 10.0) -> None:
    """Wait until `condition()` holds, re-checking as the app handles messages (workers'
    results arrive as messages); fails the test after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        await pilot.pause()
        if condition():
            return
        if loop.time() > deadline:
            raise AssertionError(f"the console never reached the expected state in {timeout} s")
        await asyncio.sleep(0.01)  # a worker thread is still running: give it the CPU


def run(test):
    def wrapper() -> None:
        asyncio.run(test())

    wrapper.__name__ = test.__name__
    wrapper.__doc__ = test.__doc__
    return wrapper


# -- an in-memory desk -------------------------------------------------------------------------


def ticket(id, cid, priority, intent, confidence, text, waiting_s=60.0, assignee=None):
    return Ticket(
        id=id,
        conversation_id=cid,
        status="open",
        priority=priority,
        priority_reason=f"{intent}: rule",
        intent=intent,
        confidence=confidence,
        assignee=assignee,
        created="2024-05-01T12:00:00Z",
        waiting_s=waiting_s,
        last_customer_text=text,
    )


def turn(turn_id, role, text, intent=None, confidence=None, source=None, **kw):
    return TranscriptTurn(
        turn_id, role, text, "2024-05-01T12:00:00Z", intent, confidence, source, **kw
    )


def review_item(turn_id, cid, text, reply, intent, confidence, source, why):
    return ReviewItem(
        turn_id=turn_id,
        reply_turn_id=f"r-{turn_id}",
        conversation_id=cid,
        text=text,
        reply=reply,
        intent=intent,
        confidence=confidence,
        source=source,
        rating=None,
        time="2024-05-01T12:00:01Z",
        why=why,
    )


class FakeDesk:
    """The `Desk` protocol in memory; every write is recorded in `calls`."""

    info = {"db": ":memory: (fake)", "models": "(none)"}
    sla_s = 300.0
    priorities = {1: "low", 2: "normal", 3: "high", 4: "urgent", 5: "critical"}

    def __init__(self, agent: str = "ana") -> None:
        self.agent = agent
        self.calls: list[tuple] = []
        self.rows = [
            ticket("T-1", "c1", 3, "refund_status", 0.41, "where is my refund??", 900),
            ticket("T-2", "c2", 2, "order_status", 0.93, "parcel late", 120),
            ticket("T-3", "c3", 1, "device_offline", 0.77, "camera offline [bold]x[/]", 30),
        ]
        self.turns = {
            "c1": [
                turn("u1", "customer", "where is my refund??", "refund_status", 0.41),
                turn("b1", "assistant", "Could you tell me more?", source="clarify"),
            ],
            "c2": [turn("u2", "customer", "parcel late")],
            "c3": [turn("u3", "customer", "camera offline")],
        }
        self.notes: dict[str, list[Note]] = {}
        self.review_items = [
            review_item(
                "u1",
                "c1",
                "where is my refund??",
                "Could you tell me more?",
                "refund_status",
                0.41,
                "clarify",
                ["low confidence 0.41", "clarify"],
            ),
            review_item(
                "u9",
                "c9",
                "hello??",
                "Sorry, that's outside…",
                "oos",
                0.8,
                "oos",
                ["out of scope"],
            ),
        ]
        self.holder: dict[str, str] = {"T-2": "bob"}
        self._changes = 0
        self._changed = threading.Condition()

    def _bump(self) -> None:
        with self._changed:
            self._changes += 1
            self._changed.notify_all()

    # what another process would do
    def customer_writes(self, conversation_id: str, text: str) -> None:
        turns = self.turns[conversation_id]
        turns.append(turn(f"n{len(turns)}", "customer", text))
        self._bump()

    def tickets(self):
        return [replace(r, assignee=self.holder.get(r.id)) for r in self.rows]

    def ticket(self, ticket_id):
        row = next(r for r in self.tickets() if r.id == ticket_id)
        turns = list(self.turns[row.conversation_id])
        return TicketDetail(row, turns, list(self.notes.get(ticket_id, [])), "human")

    def assist(self, ticket_id):
        return Assist(
            [
                Suggestion("Refunds take 5-10 days, Ann.", 0.81),
                Suggestion("I've escalated this to billing.", 0.62, agent_only=True),
            ],
            [
                Citation(
                    "billing/refunds",
                    "Refunds",
                    "How long",
                    "billing/refunds.md",
                    0.7,
                    "Refunds take 5-10 business days.",
                )
            ],
        )

    def labels(self):
        return ["device_offline", "order_status", "refund_status"]

    def claim(self, ticket_id):
        self.calls.append(("claim", ticket_id))
        holder = self.holder.get(ticket_id)
        if holder and holder != self.agent:
            raise ClaimError(f"claim: ticket {ticket_id} is claimed by {holder}.", holder)
        self.holder[ticket_id] = self.agent
        self._bump()

    def _record(self, *call):
        self.calls.append(call)
        self._bump()

    def reply(self, ticket_id, text):
        self._record("reply", ticket_id, text)

    def note(self, ticket_id, text):
        self.notes.setdefault(ticket_id, []).append(
            Note(f"note{len(self.calls)}", self.agent, text, "2024-05-01T12:02:00Z")
        )
        self._record("note", ticket_id, text)

    def correct(self, turn_id, intent):
        self._record("correct", turn_id, intent)

    def confirm(self, turn_id):
        self._record("confirm", turn_id)

    def rate(self, turn_id, good):
        self._record("rate", turn_id, good)

    def set_priority(self, ticket_id, priority):
        self._record("priority", ticket_id, priority)

    def resolve(self, ticket_id, hand_back):
        self._record("resolve", ticket_id, hand_back)

    def review(self):
        done = {c[1] for c in self.calls if c[0] in ("confirm", "correct")}
        groups: dict[str, list] = {}
        for item in self.review_items:
            if item.turn_id not in done:
                groups.setdefault(item.intent, []).append(item)
        return [ReviewGroup(k, v) for k, v in sorted(groups.items())]

    def wait_for_change(self, after, timeout):
        with self._changed:
            self._changed.wait_for(lambda: self._changes != after, timeout)
            return self._changes

    def close(self):
        pass


def queue_ids(app) -> list[str]:
    return [r.id for r in app.visible_rows()]


def reply_box(app) -> Input:
    return app.query_one("#reply", Input)


def turns_shown(app) -> list[str]:
    return [str(item.query_one(".text").render()) for item in app.query(TurnItem)]


async def open_first(pilot, app, ticket="T-1") -> None:
    await until(pilot, lambda: app.reads > 0)
    app.query_one("#queue", DataTable).focus()
    app.open_ticket(ticket)
    await until(pilot, lambda: app.detail is not None and app.assist is not None)


# -- the screen --------------------------------------------------------------------------------


@run
async def test_queue_shows_open_tickets_with_wait_against_sla():
    app = TriageApp(FakeDesk())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.reads > 0)
        table = app.query_one("#queue", DataTable)
        assert table.row_count == 3
        first = [str(c) for c in table.get_row_at(0)]
        assert first[0] == "T-1" and first[1] == "3 high"
        assert first[2] == "15m00s/5m00s"  # waited 900 s against a 300 s target
        assert table.get_row_at(0)[2].style == "bold red"  # breached
        assert table.get_row_at(1)[2].style == ""  # 120 s < 300 s
        assert first[3] == "refund_status 41%"
        # customer text is data: markup shows as typed
        assert str(table.get_row_at(2)[5]) == "camera offline [bold]x[/]"


@run
async def test_filters_mine_unassigned_all_and_slash():
    desk = FakeDesk()
    desk.holder["T-3"] = "ana"
    app = TriageApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.reads > 0)
        await pilot.press("m")
        assert queue_ids(app) == ["T-3"]
        await pilot.press("u")
        assert queue_ids(app) == ["T-1"]
        await pilot.press("a")
        assert queue_ids(app) == ["T-1", "T-2", "T-3"]
        await pilot.press("slash", *"parcel")
        assert queue_ids(app) == ["T-2"]
        assert app.query_one("#filter", Input).value == "parcel"
        await pilot.press("escape")  # clears and closes the filter box
        assert queue_ids(app) == ["T-1", "T-2", "T-3"]
        app.set_filter("intent: device_offline")
        assert queue_ids(app) == ["T-3"]
        app.set_filter("priority: 3 high")
        assert queue_ids(app) == []  # both filters hold
        assert app.query_one("#queue-empty").display


def test_queue_filter_keeps_rows():
    row = ticket("T-9", "c", 3, "billing", 0.5, "Refund please")
    assert QueueFilter("unassigned", text="refund").keep(row, "ana")
    assert not QueueFilter("mine").keep(row, "ana")
    assert not QueueFilter(intent="orders").keep(row, "ana")
    assert QueueFilter().describe() == "all"
    assert QueueFilter("mine", "billing", None, "x").describe() == "mine · intent billing · /x"


@run
async def test_single_keys_are_off_while_typing():
    desk = FakeDesk()
    app = TriageApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await open_first(pilot, app)
        await pilot.press("r")  # into the reply box
        assert app.focused is reply_box(app)
        await pilot.press(*"chx?qip1")  # claim, hand back, close, help, quit ... as letters
        assert reply_box(app).value == "chx?qip1"
        assert not isinstance(app.screen, (TriageHelp, PickScreen))
        assert desk.calls == [] and app.is_running
        await pilot.press("escape")  # leave the box: the keys act again
        assert app.focused is not reply_box(app)
        await pilot.press("c")
        await until(pilot, lambda: desk.calls == [("claim", "T-1")])
        await pilot.press("question_mark")
        assert isinstance(app.screen, TriageHelp)


@run
async def test_help_and_palette():
    app = TriageApp(FakeDesk())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, TriageHelp)
        await pilot.press("escape")
        assert not isinstance(app.screen, TriageHelp)
        await pilot.press("colon")
        await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette")
        await pilot.press(*"unassigned", "enter")
        await until(pilot, lambda: app.queue_filter.scope == "unassigned")


@run
async def test_a_suggestion_goes_into_the_reply_box_and_nothing_is_sent():
    desk = FakeDesk()
    app = TriageApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await open_first(pilot, app)
        options = app.query_one("#suggestions", OptionList)
        assert options.option_count == 2
        assert "[agent only]" in str(options.get_option_at_index(1).prompt)
        assert "Refunds › How long" in str(app.query_one("#passages").render())
        await pilot.press("3", "down", "enter")  # the agent-only one
        assert reply_box(app).value == "I've escalated this to billing."
        assert app.focused is reply_box(app)
        assert desk.calls == []  # nothing sent by itself
        await pilot.press(*" Ann", "enter")
        await until(pilot, lambda: desk.calls)
        assert desk.calls == [("reply", "T-1", "I've escalated this to billing. Ann")]
        assert reply_box(app).value == ""


@run
async def test_conversation_is_live():
    desk = FakeDesk()
    app = TriageApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await open_first(pilot, app)
        assert turns_shown(app) == ["where is my refund??", "Could you tell me more?"]
        await pilot.press("f1")  # a dialog in front: the console behind still follows the log
        desk.customer_writes("c1", "hello?? \x1b[2J")
        await until(pilot, lambda: len(app.detail.transcript) == 3)
        await pilot.press("escape")
        await until(pilot, lambda: len(turns_shown(app)) == 3)
        assert turns_shown(app)[-1] == "hello?? ␛[2J"
        assert app.return_code in (None, 0)


@run
async def test_claim_conflict_names_the_holder():
    desk = FakeDesk()
    app = TriageApp(desk)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_first(pilot, app, "T-2")
        await pilot.press("c")
        await until(pilot, lambda: any("bob" in str(n.message) for n in app._notifications))
        assert desk.holder["T-2"] == "bob"
        assert app.failures == 0  # an answer, not a failure


@run
async def test_note_correct_rate_priority_resolve():
    desk = FakeDesk()
    app = TriageApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await open_first(pilot, app)
        await until(pilot, lambda: app.labels)
        await pilot.press("n", *"called the bank", "enter")
        await until(pilot, lambda: ("note", "T-1", "called the bank") in desk.calls)
        assert app.mode == "reply"
        await pilot.press("escape", "i")
        assert isinstance(app.screen, PickScreen)
        await pilot.press(*"ordst", "enter")  # fuzzy: order_status
        await until(pilot, lambda: ("correct", "u1", "order_status") in desk.calls)
        await pilot.press("b")
        await until(pilot, lambda: ("rate", "b1", False) in desk.calls)
        await pilot.press("p", *"urg", "enter")
        await until(pilot, lambda: ("priority", "T-1", 4) in desk.calls)
        await pilot.press("h")
        await pilot.press("n")  # no: nothing happens
        await pilot.press("x", "y")
        await until(pilot, lambda: ("resolve", "T-1", False) in desk.calls)
        assert ("resolve", "T-1", True) not in desk.calls


@run
async def test_review_inbox_confirm_change_skip():
    desk = FakeDesk()
    app = TriageApp(desk)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.review_groups and app.labels)
        tree = app.query_one("#review", ReviewTree)
        groups = [str(n.label) for n in tree.root.children]
        assert groups == ["oos (1)", "refund_status (1)"]
        await pilot.press("4")
        assert app.focused is tree
        tree.move_cursor(tree.root.children[0].children[0])
        await pilot.press("s")  # skip: gone from the inbox, nothing stored
        await until(
            pilot, lambda: [str(n.label) for n in tree.root.children] == ["refund_status (1)"]
        )
        assert desk.calls == []
        tree.move_cursor(tree.root.children[0].children[0])
        await pilot.press("y")
        await until(pilot, lambda: desk.calls == [("confirm", "u1")])
        await until(pilot, lambda: not tree.root.children)
        desk.calls.clear()
        app.skipped.clear()
        app._show_review()
        tree.move_cursor(tree.root.children[0].children[0])
        await pilot.press("e", *"device", "enter")
        await until(pilot, lambda: desk.calls == [("correct", "u9", "device_offline")])


# -- two consoles and the customer's chat on one log file --------------------------------------


@pytest.fixture
def shared_log(tmp_path):
    """A customer's service (scripted engine) writing to a log file, and a way to open a
    console's desk on the same file (each with its own connection, as separate processes)."""
    from fake_engine import ScriptedEngine

    from assistant.log import ConversationLog
    from assistant.service import AssistantService
    from assistant.tickets import Tickets
    from assistant.tui.triage import TicketDesk

    db = tmp_path / "shared.db"
    service = AssistantService(ScriptedEngine(), ConversationLog(db))
    desks = []

    def desk(agent: str) -> TicketDesk:
        made = TicketDesk(Tickets(ConversationLog(db)), agent, info={"db": str(db)})
        desks.append(made)
        return made

    yield service, desk, db
    for made in desks:
        made.close()
    service.close()


def handed_off(service) -> tuple[str, str]:
    """A conversation the customer handed to a human: (conversation id, ticket id)."""
    cid = service.new_conversation()
    service.respond(cid, "where is my order?")
    reply = service.respond(cid, "I want a human please")
    service.respond(cid, "it is order NH-48213")  # waits for the agent: the bot is quiet
    return cid, reply.ticket_id


def test_two_consoles_race_for_a_claim_and_one_wins(shared_log):
    service, desk, db = shared_log
    _, ticket_id = handed_off(service)
    ana, bob = TriageApp(desk("ana")), TriageApp(desk("bob"))

    async def drive() -> None:
        async with (
            ana.run_test(size=SIZE, notifications=True) as pa,
            bob.run_test(size=SIZE, notifications=True) as pb,
        ):
            for app, pilot in ((ana, pa), (bob, pb)):
                await until(pilot, lambda app=app: app.reads > 0)
                app.open_ticket(ticket_id)
                await until(pilot, lambda app=app: app.detail is not None)
            await pa.press("c")
            await pb.press("c")  # both claims are in flight at once
            await until(pa, lambda: len(said(ana) + said(bob)) >= 2)
            await until(
                pb, lambda: any("has this ticket" in text for text in said(ana) + said(bob))
            )
            holder = sqlite(db, "SELECT assignee FROM tickets WHERE id = ?", ticket_id)
            loser = bob if holder == "ana" else ana
            assert holder in ("ana", "bob")
            assert any(f"{holder} has this ticket" in text for text in said(loser))
            assert loser.failures == 0  # told who has it, not an error
            # Both screens follow the log: the queue says who holds the ticket.
            await until(pa, lambda: ana.rows and ana.rows[0].assignee == holder)
            await until(pb, lambda: bob.rows and bob.rows[0].assignee == holder)

    asyncio.run(drive())


def test_an_agents_reply_reaches_the_customers_open_chat(shared_log):
    from chat_helpers import run_chat
    from chat_helpers import until as chat_until

    from assistant.tui.app import AgentMessage, ChatApp

    service, desk, _ = shared_log
    chat = ChatApp(service)
    console = TriageApp(desk("ana"))

    async def drive() -> None:
        async with run_chat(chat, size=(110, 34)) as customer, console.run_test(size=SIZE) as agent:
            await customer.click("#prompt")
            await customer.press(*"I want a human please", "enter")
            await chat_until(customer, lambda: chat.status == "human")
            await until(agent, lambda: console.rows)  # the new ticket shows up by itself
            assert console.rows[0].conversation_id == chat.conversation_id
            await agent.press("enter")  # open the ticket under the cursor
            await until(agent, lambda: console.detail is not None)
            await agent.press("r", *"Hi, Ana here. Which order is it?", "enter")
            await chat_until(customer, lambda: list(chat.query(AgentMessage)))
            shown = str(chat.query(AgentMessage).last().render())
            assert "Hi, Ana here. Which order is it?" in shown
            # the customer answers: the console shows it live
            await customer.press(*"NH-48213", "enter")
            await until(agent, lambda: "NH-48213" in turns_shown(console))

    asyncio.run(drive())


def test_corrections_and_confirmations_are_stored_with_agent_and_time(shared_log):
    service, desk, db = shared_log
    cid, ticket_id = handed_off(service)
    other = service.new_conversation()
    service.respond(other, "this is unclear to me")  # a clarify: worth a review
    app = TriageApp(desk("ana"))

    async def drive() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.reads > 0 and app.labels and app.review_groups)
            assert {"order_status", "human_agent"} <= set(app.labels)  # seen in the log
            app.open_ticket(ticket_id)
            await until(pilot, lambda: app.detail is not None)
            await pilot.press("2", "i")  # the last customer turn
            assert isinstance(app.screen, PickScreen)
            await pilot.press(*"human", "enter")
            await until(pilot, lambda: sqlite(db, "SELECT COUNT(*) FROM corrections") == 1)
            await until(pilot, lambda: "(corrected)" in captions(app)[-1])
            await pilot.press("4")
            await until(pilot, lambda: app._review_target() is not None)
            target = app._review_target()
            await pilot.press("y")
            await until(pilot, lambda: sqlite(db, "SELECT COUNT(*) FROM corrections") == 2)
            await until(
                pilot,
                lambda: all(
                    i.turn_id != target.turn_id for g in app.review_groups for i in g.items
                ),
            )
            return target

    target = asyncio.run(drive())
    rows = sqlite_rows(
        db, "SELECT turn_id, corrected_intent, agent, kind, time FROM corrections ORDER BY rowid"
    )
    last_customer = sqlite(
        db,
        "SELECT id FROM turns WHERE conversation_id = ? AND role = 'customer' ORDER BY seq DESC",
        cid,
    )
    assert rows[0][:4] == (last_customer, "human_agent", "ana", "correct")
    assert rows[1][:4] == (target.turn_id, target.intent, "ana", "confirm")
    assert all(row[4].startswith("20") for row in rows)  # stored with the time


# -- helpers for the real log ------------------------------------------------------------------


def said(app) -> list[str]:
    """The notifications the app showed so far."""
    return [str(n.message) for n in app._notifications]


def captions(app) -> list[str]:
    return [str(item.query_one(".who").render()) for item in app.query(TurnItem)]


def sqlite_rows(db, sql, *params) -> list[tuple]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def sqlite(db, sql, *params):
    rows = sqlite_rows(db, sql, *params)
    return rows[0][0] if rows else None


def test_stored_hostile_text_is_shown_as_data(shared_log):
    """Escape codes, markup and bidi overrides in customers' messages reach the agent's
    screen as inert text, in the queue, the conversation and the review inbox."""
    from hostile import HOSTILE, rendered, screen_unsafe

    service, desk, _ = shared_log
    names = ("osc title", "clear screen", "rich markup", "closing tag only", "bidi override")
    for name in names:
        cid = service.new_conversation()
        service.respond(cid, f"{HOSTILE[name]} unclear")  # a clarify: in the review inbox
        service.respond(cid, f"{HOSTILE[name]} human")  # a ticket
    app = TriageApp(desk("ana"))

    async def drive() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: len(app.rows) == len(names) and app.review_groups)
            screen = "\n".join(rendered(app))
            assert "[bold red]x[/] [reverse]inverted" in screen
            assert "␛]0;pwned␇" in screen
            assert screen_unsafe(app) == []
            for row in app.rows:
                app.open_ticket(row.id)
                await until(pilot, lambda row=row: app.detail and app.detail.ticket.id == row.id)
                await pilot.pause()
                assert screen_unsafe(app) == []
        assert app.return_code in (None, 0)

    asyncio.run(drive())


def test_the_console_suggests_with_a_promoted_version_and_after_a_rollback(
    shared_log, tmp_path, intent_dir, ranker_dir
):
    """`assistant models promote` / `rollback` in another terminal while the console is open:
    the next suggestions come from the version now current, the agent is told, and the open
    conversation stays on screen."""
    from versioned_models import MARK, versioned_models

    from assistant.priority import PriorityRules
    from assistant.tui.triage import open_desk
    from assistant.versions import ModelStore

    service, _, db = shared_log
    _, ticket_id = handed_off(service)
    models = versioned_models(tmp_path, intent_dir, ranker_dir)
    store = ModelStore(models)
    desk = open_desk(db, "ana", models_dir=models, rules=PriorityRules(), follow_interval=0.05)
    app = TriageApp(desk)

    def version() -> str | None:
        return app.assist.model_version if app.assist else None

    def marked() -> list[bool]:
        return [s.text.startswith(MARK) for s in app.assist.suggestions]

    def pane() -> str:
        return str(app.query_one("#assist-pane").border_subtitle)

    async def drive() -> None:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await until(pilot, lambda: app.reads > 0)
            app.open_ticket(ticket_id)
            await until(pilot, lambda: version() == "1", timeout=60)
            assert marked() and not any(marked())  # version 1's replies
            assert pane() == "models: version 1"
            shown = turns_shown(app)
            store.promote("2")
            await until(pilot, lambda: version() == "2", timeout=60)
            assert all(marked())  # the next suggestions are version 2's
            first = app.query_one("#suggestions", OptionList).get_option_at_index(0)
            assert MARK in str(first.prompt)
            assert pane() == "models: version 2"
            assert app.notices == ["Models: now version 2 (was 1)."]
            assert app.notices[0] in said(app)
            store.rollback()
            await until(pilot, lambda: version() == "1", timeout=60)
            assert not any(marked())
            assert app.notices[-1] == "Models: now version 1 (was 2)."
            assert turns_shown(app) == shown  # the conversation stayed as it was
            assert app.failures == 0

    try:
        asyncio.run(drive())
    finally:
        desk.close()
    assert app.return_code in (None, 0)


def test_triage_command_refuses_a_missing_log(tmp_path):
    from click.testing import CliRunner

    from assistant.cli import cli

    missing = tmp_path / "nope.db"
    res = CliRunner().invoke(cli, ["triage", "--db", str(missing), "--agent", "ana"])
    assert res.exit_code != 0
    assert f"No conversation log at {missing}" in res.output
    assert not missing.exists()  # nothing created on a mistyped path
