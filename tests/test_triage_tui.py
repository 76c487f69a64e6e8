"""The triage console (`assistant triage`), driven with Pilot.

The first tests run it over an in-memory fake desk (what the screen does with keys, filters,
suggestions and the review inbox); the last ones run two consoles and the customer's chat on
one real log file, as agents and customers would (a claim race, an agent's reply reaching the
customer's open chat, corrections stored with the agent's name).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, replace

import pytest

pytest.importorskip("textual")

from textual.widgets import DataTable, Input, OptionList  # noqa: E402

from assistant.reply import Citation, TurnRecord  # noqa: E402
from assistant.tui.triage import (  # noqa: E402
    Assist,
    ClaimConflict,
    PickScreen,
    QueueFilter,
    ReviewItem,
    ReviewTree,
    Suggestion,
    TicketDetail,
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


@dataclass(frozen=True)
class Row:
    id: str
    conversation_id: str
    priority: str
    intent: str | None
    confidence: float | None
    last_customer_text: str
    waiting_s: float = 60.0
    assignee: str | None = None
    status: str = "open"
    priority_reason: str = "intent rule"
    created: str = "2024-05-01T12:00:00Z"
    sla_s: float | None = 300.0


class FakeDesk:
    """The `Desk` protocol in memory; every write is recorded in `calls`."""

    info = {"db": ":memory: (fake)", "models": "(none)"}

    def __init__(self, agent: str = "ana") -> None:
        self.agent = agent
        self.calls: list[tuple] = []
        self.rows = [
            Row("T-1", "c1", "high", "refund_status", 0.41, "where is my refund??", 900),
            Row("T-2", "c2", "normal", "order_status", 0.93, "parcel late", 120, "bob"),
            Row("T-3", "c3", "low", "device_offline", 0.77, "camera offline [bold]x[/]", 30),
        ]
        self.turns = {
            "c1": [
                TurnRecord(
                    "u1",
                    "customer",
                    "where is my refund??",
                    "2024-05-01T12:00:00Z",
                    intent="refund_status",
                    confidence=0.41,
                    seq=1,
                ),
                TurnRecord(
                    "b1",
                    "assistant",
                    "Could you tell me more?",
                    "2024-05-01T12:00:01Z",
                    source="clarify",
                    seq=2,
                ),
            ],
            "c2": [TurnRecord("u2", "customer", "parcel late", "2024-05-01T12:00:00Z", seq=1)],
            "c3": [TurnRecord("u3", "customer", "camera offline", "2024-05-01T12:00:00Z", seq=1)],
        }
        self.review_items = [
            ReviewItem(
                "u1",
                "c1",
                "where is my refund??",
                "Could you tell me more?",
                "refund_status",
                0.41,
                "clarify",
                "2024-05-01T12:00:01Z",
            ),
            ReviewItem(
                "u9",
                "c9",
                "hello??",
                "Sorry, that's outside…",
                "oos",
                0.8,
                "out of scope",
                "2024-05-01T12:00:01Z",
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
        turns.append(
            TurnRecord(
                f"n{len(turns)}", "customer", text, "2024-05-01T12:01:00Z", seq=len(turns) + 1
            )
        )
        self._bump()

    def tickets(self):
        return [replace(r, assignee=self.holder.get(r.id)) for r in self.rows]

    def ticket(self, ticket_id):
        row = next(r for r in self.tickets() if r.id == ticket_id)
        return TicketDetail(row, "human", list(self.turns[row.conversation_id]))

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

    def priorities(self):
        return ["urgent", "high", "normal", "low"]

    def claim(self, ticket_id):
        self.calls.append(("claim", ticket_id))
        holder = self.holder.get(ticket_id)
        if holder and holder != self.agent:
            raise ClaimConflict(ticket_id, holder)
        self.holder[ticket_id] = self.agent
        self._bump()

    def _record(self, *call):
        self.calls.append(call)
        self._bump()

    def reply(self, ticket_id, text):
        self._record("reply", ticket_id, text)

    def note(self, ticket_id, text):
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
        return [i for i in self.review_items if i.turn_id not in done]

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
        assert first[0] == "T-1" and first[1] == "high"
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
        app.set_filter("priority: high")
        assert queue_ids(app) == []  # both filters hold
        assert app.query_one("#queue-empty").display


def test_queue_filter_keeps_rows():
    row = Row("T-9", "c", "high", "billing", 0.5, "Refund please", assignee=None)
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
        desk.customer_writes("c1", "hello?? \x1b[2J")
        await until(pilot, lambda: len(turns_shown(app)) == 3)
        assert turns_shown(app)[-1] == "hello?? ␛[2J"


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
        await until(pilot, lambda: ("priority", "T-1", "urgent") in desk.calls)
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
        await until(pilot, lambda: app.review_items and app.labels)
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
