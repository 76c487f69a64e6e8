"""The Textual chat, driven with Pilot against an in-memory fake backend and a real log.

Tests wait on the chat's public state (`chat_helpers.until`), never on sleeps, and assert on
what the screen and the backend's records (or the database) show.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

pytest.importorskip("textual")

from chat_helpers import asynchronous, run_chat, until  # noqa: E402
from fake_engine import ScriptedEngine  # noqa: E402
from textual.widgets import DataTable, Input, Markdown, OptionList, Static  # noqa: E402

from assistant.log import ConversationLog  # noqa: E402
from assistant.reply import (  # noqa: E402
    Candidate,
    Citation,
    ConversationSummary,
    ConversationView,
    Decision,
    Reply,
    TurnRecord,
)
from assistant.service import AssistantService  # noqa: E402
from assistant.tui.app import (  # noqa: E402
    AgentMessage,
    AssistantMessage,
    BrowseScreen,
    ChatApp,
    CustomerMessage,
    ErrorMessage,
    HelpScreen,
    InsightPanel,
    NoteMessage,
)

SIZE = (110, 34)


class FakeBackend:
    """An in-memory `Backend`: canned replies, fixed scores and latency, every call recorded.

    `gate`, when given, makes `respond` wait until it is set (a "slow model");
    `fail_on`, a message text that makes `respond` raise. `agent_reply`, `hand_back` and
    `close_conversation` stand for another process (an agent's console) writing to the log.
    """

    info = {"intent model": "models/intent (fake)", "kb": "kb/ (fake)", "db": ":memory:"}

    def __init__(self, gate: threading.Event | None = None, fail_on: str | None = None) -> None:
        self.gate = gate
        self.fail_on = fail_on
        self.calls: list[tuple] = []
        self.ratings: list[tuple[str, bool]] = []
        self.turns: dict[str, list[TurnRecord]] = {}
        self.status: dict[str, str] = {}
        self._next_conversation = 1
        self._next_turn = 1
        self._next_ticket = 12345
        self._changes = 0  # bumped by every write, like the log's data_version
        self._changed = threading.Condition()
        self.closed = False

    # -- helpers -------------------------------------------------------------------------------

    def _changed_now(self) -> None:
        with self._changed:
            self._changes += 1
            self._changed.notify_all()

    def _turn(self, conversation_id: str, role: str, text: str, **kw) -> TurnRecord:
        with self._changed:
            turns = self.turns[conversation_id]
            turn = TurnRecord(
                id=f"t{self._next_turn}",
                role=role,
                text=text,
                time="2024-05-01T12:00:00Z",
                seq=len(turns) + 1,
                **kw,
            )
            self._next_turn += 1
            turns.append(turn)
        self._changed_now()
        return turn

    def _set_status(self, conversation_id: str, status: str) -> None:
        self.status[conversation_id] = status
        self._changed_now()

    # -- another process -----------------------------------------------------------------------

    def agent_reply(self, conversation_id: str, text: str) -> None:
        self._turn(conversation_id, "agent", text)

    def hand_back(self, conversation_id: str) -> None:
        self._set_status(conversation_id, "bot")

    def close_conversation(self, conversation_id: str) -> None:
        self._set_status(conversation_id, "closed")

    # -- the Backend protocol ------------------------------------------------------------------

    def new_conversation(self) -> str:
        conversation_id = f"c{self._next_conversation}"
        self._next_conversation += 1
        self.turns[conversation_id] = []
        self.calls.append(("new_conversation", conversation_id))
        self._set_status(conversation_id, "bot")
        return conversation_id

    def respond(self, conversation_id: str, text: str) -> Reply:
        self.calls.append(("respond", conversation_id, text))
        if self.gate is not None:
            assert self.gate.wait(10), "the test never released the fake model"
        if text == self.fail_on:
            raise RuntimeError("model exploded")
        self._turn(conversation_id, "customer", text)
        if self.status[conversation_id] == "human":
            # Like the real service: nothing is logged for the bot, so no turn id.
            return Reply("", "muted", "handed off: waiting for an agent", conversation_id, "")
        answer = f"Refunds reach your card within **5 business days**. (re: {text})"
        turn = self._turn(conversation_id, "assistant", answer, source="kb", intent="refund")
        return Reply(
            reply=answer,
            source="kb",
            reason="kb score 0.71 >= 0.50",
            conversation_id=conversation_id,
            turn_id=turn.id,
            intent="refund",
            confidence=0.83,
            top_intents=[("refund", 0.83), ("cancel_order", 0.1), ("track_order", 0.04)],
            citations=[
                Citation(
                    "billing/refunds",
                    "Refunds",
                    "How long refunds take",
                    "billing/refunds.md",
                    0.71,
                ),
            ],
            candidates=[
                Candidate("Your refund is on its way.", 0.62, ["refund"]),
                Candidate("You can cancel an order from your account page.", 0.41),
            ],
            latency_ms=42.0,
        )

    def rate(self, turn_id: str, good: bool) -> None:
        self.calls.append(("rate", turn_id, good))
        self.ratings.append((turn_id, good))

    def request_human(self, conversation_id: str) -> Reply:
        self.calls.append(("request_human", conversation_id))
        ticket = f"T-{self._next_ticket}"
        self._next_ticket += 1
        text = f"I've passed this to a colleague. Your ticket is **{ticket}**."
        turn = self._turn(conversation_id, "assistant", text, source="handoff")
        self._set_status(conversation_id, "human")
        return Reply(
            text,
            "handoff",
            "customer asked for a human",
            conversation_id,
            turn.id,
            ticket_id=ticket,
        )

    def conversations(self, limit: int = 50) -> list[ConversationSummary]:
        self.calls.append(("conversations", limit))
        rows = [
            ConversationSummary(
                id=cid,
                started="2024-05-01T12:00:00Z",
                n_turns=len(turns),
                preview=next((t.text for t in turns if t.role == "customer"), ""),
                status=self.status[cid],
            )
            for cid, turns in self.turns.items()
        ]
        return rows[::-1][:limit]

    def conversation(self, conversation_id: str, after_seq: int = 0) -> ConversationView:
        with self._changed:
            turns = [t for t in self.turns[conversation_id] if t.seq > after_seq]
        return ConversationView(conversation_id, self.status[conversation_id], turns)

    def wait_for_change(self, after: int, timeout: float) -> int:
        with self._changed:
            self._changed.wait_for(lambda: self._changes != after, timeout)
            return self._changes

    def close(self) -> None:
        self.closed = True


# -- helpers -----------------------------------------------------------------------------------


async def settle(pilot) -> None:
    """Wait until every queued backend call has been answered and shown."""
    await until(pilot, lambda: not pilot.app.busy)


async def send(pilot, text: str) -> None:
    """Type `text` into the input and press Enter."""
    await pilot.click("#prompt")
    await pilot.press(*text, "enter")


def messages(app, kind) -> list:
    return list(app.query(kind))


def body(message: AssistantMessage) -> str:
    """The Markdown an assistant message shows."""
    return message.query_one(Markdown).source


def shown(widget) -> str:
    return str(widget.render())


def toasts(app) -> list[str]:
    """The notifications on screen (run the app with `notifications=True`)."""
    return [shown(toast) for toast in app.screen.query("Toast")]


def prompt(app) -> Input:
    return app.query_one("#prompt", Input)


# -- behaviour ---------------------------------------------------------------------------------


@asynchronous
async def test_exchange_shows_both_messages_and_the_insight_panel():
    backend = FakeBackend()
    app = ChatApp(backend)
    async with run_chat(app, size=SIZE) as pilot:
        await send(pilot, "where is my refund")
        await settle(pilot)
        assert [str(m.render()) for m in messages(app, CustomerMessage)] == ["where is my refund"]
        (reply,) = messages(app, AssistantMessage)
        assert "5 business days" in body(reply)
        caption = str(reply.query_one(".caption", Static).render())
        assert caption == "from the knowledge base · Refunds › How long refunds take"
        citation = str(reply.query_one(".citation", Static).render())
        assert "billing/refunds.md" in citation
        panel = app.query_one(InsightPanel)
        intent = str(panel.query_one("#intent", Static).render())
        assert "refund" in intent and "83%" in intent and "cancel_order" in intent
        assert "billing/refunds.md" in str(panel.query_one("#sources", Static).render())
        assert "0.62" in str(panel.query_one("#alternatives", Static).render())
        assert "kb score 0.71" in str(panel.query_one("#policy", Static).render())
        assert "42 ms" in str(panel.query_one("#latency", Static).render())
        assert app.query_one("#prompt", Input).value == ""
    assert backend.calls[:2] == [
        ("new_conversation", "c1"),
        ("respond", "c1", "where is my refund"),
    ]


@asynchronous
async def test_blank_input_is_ignored():
    backend = FakeBackend()
    app = ChatApp(backend)
    async with run_chat(app, size=SIZE) as pilot:
        await send(pilot, "   ")
        await settle(pilot)
        assert messages(app, CustomerMessage) == []
        assert not any(call[0] == "respond" for call in backend.calls)


@asynchronous
async def test_rating_records_the_last_turn():
    backend = FakeBackend()
    app = ChatApp(backend)
    async with run_chat(app, size=SIZE, notifications=True) as pilot:
        await pilot.press("ctrl+g")  # nothing to rate yet: a notification, no call
        await pilot.pause()
        assert backend.ratings == []
        assert any("no reply to rate" in toast for toast in toasts(app))

        await send(pilot, "hello")
        await settle(pilot)
        await send(pilot, "and again")
        await settle(pilot)
        second = backend.turns["c1"][-1]
        assert second.role == "assistant" and "(re: and again)" in second.text

        await pilot.press("ctrl+g")
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert backend.ratings == [(second.id, True), (second.id, False)]
        last = messages(app, AssistantMessage)[-1]
        assert "rated bad" in str(last.query_one(".caption", Static).render())


@asynchronous
async def test_ctrl_h_hands_off_and_shows_the_ticket():
    backend = FakeBackend()
    app = ChatApp(backend)
    async with run_chat(app, size=SIZE) as pilot:
        await send(pilot, "I want a person")
        await settle(pilot)
        await pilot.press("ctrl+h")
        await settle(pilot)
        handoff = messages(app, AssistantMessage)[-1]
        assert handoff.has_class("handoff")
        assert "T-12345" in body(handoff)
        caption = str(handoff.query_one(".caption", Static).render())
        assert caption == "handed to a human · ticket T-12345"
        assert ("request_human", "c1") in backend.calls
        handoff_turn = backend.turns["c1"][-1].id
        # The status comes from the backend's log: the input says a human has it.
        await until(pilot, lambda: app.status == "human")
        assert "human agent has this conversation" in prompt(app).placeholder
        # The bot is muted now: the next message gets a note, no reply, and ctrl+g still
        # rates the handoff turn (a muted reply has no turn of its own).
        await send(pilot, "hello?")
        await settle(pilot)
        assert messages(app, AssistantMessage)[-1] is handoff
        assert "human agent will reply" in str(app.query(NoteMessage).last().render())
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert backend.ratings == [(handoff_turn, True)]


@asynchronous
async def test_f2_also_hands_off():
    backend = FakeBackend()
    app = ChatApp(backend)
    async with run_chat(app, size=SIZE) as pilot:
        await pilot.press("f2")
        await settle(pilot)
        assert ("request_human", "c1") in backend.calls


@asynchronous
async def test_new_conversation_clears_the_transcript():
    backend = FakeBackend()
    app = ChatApp(backend)
    async with run_chat(app, size=SIZE) as pilot:
        await send(pilot, "hello")
        await settle(pilot)
        assert app.conversation_id == "c1"
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.conversation_id == "c2"
        assert messages(app, CustomerMessage) == [] and messages(app, AssistantMessage) == []
        assert "—" in str(app.query_one("#intent", Static).render())
        await pilot.press("ctrl+g")  # the old conversation's reply is not rated from here
        await pilot.pause()
        assert backend.ratings == []
        await send(pilot, "second chat")
        await settle(pilot)
        assert backend.calls[-1] == ("respond", "c2", "second chat")


@asynchronous
async def test_browse_lists_conversations_and_opens_one():
    backend = FakeBackend()
    app = ChatApp(backend)
    async with run_chat(app, size=SIZE) as pilot:
        await send(pilot, "first chat")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, BrowseScreen))
        table = app.screen.query_one(DataTable)
        assert table.row_count == 2  # c2 (empty, newest) then c1
        assert str(table.get_row_at(1)[3]) == "first chat"  # cells are Text (never markup)
        await pilot.press("down", "enter")
        await until(pilot, lambda: app.conversation_id == "c1")
        assert not isinstance(app.screen, BrowseScreen)
        assert [str(m.render()) for m in messages(app, CustomerMessage)] == ["first chat"]
        assert len(messages(app, AssistantMessage)) == 1
        # Continue it: the next message goes to c1 and can be rated.
        await send(pilot, "one more thing")
        await settle(pilot)
        assert backend.calls[-1] == ("respond", "c1", "one more thing")


@asynchronous
async def test_browse_closes_with_escape():
    app = ChatApp(FakeBackend())
    async with run_chat(app, size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, BrowseScreen))
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, BrowseScreen)
        assert app.conversation_id == "c1"


@asynchronous
async def test_closed_conversation_is_read_only():
    backend = FakeBackend()
    app = ChatApp(backend)
    async with run_chat(app, size=SIZE) as pilot:
        await send(pilot, "old question")
        await settle(pilot)
        backend.status["c1"] = "closed"
        await pilot.press("ctrl+n")
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, BrowseScreen))
        await pilot.press("down", "enter")
        await until(pilot, lambda: app.conversation_id == "c1")
        assert prompt(app).disabled and "closed (read-only)" in prompt(app).placeholder
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert not prompt(app).disabled


@asynchronous
async def test_help_opens_and_closes():
    app = ChatApp(FakeBackend())
    async with run_chat(app, size=SIZE) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = str(app.screen.query_one("#help-keys", Static).render())
        for key in ("ctrl+g", "ctrl+b", "F2 / ctrl+h", "ctrl+n", "ctrl+o", "F1 / ?", "ctrl+q"):
            assert key in keys
        assert "models/intent (fake)" in str(app.screen.query_one("#help-info", Static).render())
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


@asynchronous
async def test_question_mark_types_into_the_input_but_opens_help_elsewhere():
    app = ChatApp(FakeBackend())
    async with run_chat(app, size=SIZE) as pilot:
        await pilot.press("?")
        await pilot.pause()
        assert app.query_one("#prompt", Input).value == "?"
        assert not isinstance(app.screen, HelpScreen)
        app.set_focus(None)
        await pilot.press("?")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


@asynchronous
async def test_input_stays_responsive_and_messages_are_answered_in_order():
    gate = threading.Event()
    backend = FakeBackend(gate=gate)
    app = ChatApp(backend)
    async with run_chat(app, size=SIZE) as pilot:
        await send(pilot, "first")
        await pilot.pause()
        assert app.busy
        assert app.query_one("#thinking").display
        # The model is still running: typing works and a second message is queued.
        await send(pilot, "second")
        await pilot.press(*"draft")
        await pilot.pause()
        assert app.query_one("#prompt", Input).value == "draft"
        assert "1 more queued" in str(app.query_one("#thinking", Static).render())
        assert [str(m.render()) for m in messages(app, CustomerMessage)] == ["first", "second"]
        assert messages(app, AssistantMessage) == []
        gate.set()
        await settle(pilot)
        assert not app.query_one("#thinking").display
        replies = [body(m) for m in messages(app, AssistantMessage)]
        assert len(replies) == 2
        assert "(re: first)" in replies[0] and "(re: second)" in replies[1]
        responds = [call for call in backend.calls if call[0] == "respond"]
        assert responds == [("respond", "c1", "first"), ("respond", "c1", "second")]


class LoadingBackend(FakeBackend):
    """A backend whose models load in the background: `respond` waits for them."""

    def __init__(self, loaded: threading.Event, error: Exception | None = None) -> None:
        super().__init__()
        self.loaded, self.error = loaded, error

    def wait_ready(self) -> None:
        self.loaded.wait(5)
        if self.error is not None:
            raise self.error

    def respond(self, conversation_id, text):
        self.wait_ready()
        return super().respond(conversation_id, text)


@asynchronous
async def test_chat_opens_while_the_models_load_and_answers_once_they_are_ready():
    loaded = threading.Event()
    app = ChatApp(LoadingBackend(loaded))
    async with run_chat(app, size=SIZE) as pilot:
        await pilot.pause()
        assert app.focused is app.query_one("#prompt", Input)  # typing works at once
        thinking = app.query_one("#thinking", Static)
        assert thinking.display and "Loading the assistant's models" in str(thinking.render())
        await send(pilot, "early question")
        await pilot.pause()
        assert "answered in a moment" in str(thinking.render())
        loaded.set()
        await settle(pilot)
        assert not thinking.display
        (reply,) = messages(app, AssistantMessage)
        assert "(re: early question)" in body(reply)


@asynchronous
async def test_a_model_loading_failure_is_shown():
    loaded = threading.Event()
    loaded.set()
    app = ChatApp(LoadingBackend(loaded, error=RuntimeError("ranker/manifest.json is damaged")))
    async with run_chat(app, size=SIZE) as pilot:
        await settle(pilot)
        (error,) = messages(app, ErrorMessage)
        assert "Could not load the assistant's models: ranker/manifest.json is damaged" in str(
            error.render()
        )
        assert not app.query_one("#thinking", Static).display


@asynchronous
async def test_a_late_reply_does_not_land_in_a_new_conversation():
    gate = threading.Event()
    backend = FakeBackend(gate=gate)
    app = ChatApp(backend)
    async with run_chat(app, size=SIZE) as pilot:
        await send(pilot, "slow question")
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.conversation_id == "c2"
        assert not app.query_one("#thinking").display  # nothing pending for c2
        gate.set()
        await settle(pilot)
        assert messages(app, AssistantMessage) == []
        assert [t.role for t in backend.turns["c1"]] == ["customer", "assistant"]
        await pilot.press("ctrl+g")  # nothing of c2's to rate
        await pilot.pause()
        assert backend.ratings == []


@asynchronous
async def test_backend_error_is_shown_and_the_text_kept():
    backend = FakeBackend(fail_on="boom")
    app = ChatApp(backend)
    async with run_chat(app, size=SIZE) as pilot:
        await send(pilot, "boom")
        await settle(pilot)
        (error,) = messages(app, ErrorMessage)
        assert "model exploded" in str(error.render())
        assert app.query_one("#prompt", Input).value == "boom"
        # The app still works afterwards.
        await pilot.press("ctrl+u")
        await send(pilot, "fine now")
        await settle(pilot)
        assert len(messages(app, AssistantMessage)) == 1


@asynchronous
async def test_command_palette_lists_the_chat_actions():
    app = ChatApp(FakeBackend())
    async with run_chat(app, size=SIZE) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for title in (
            "Rate last reply: good",
            "Rate last reply: bad",
            "Talk to a human",
            "New conversation",
            "Browse conversations",
            "Help",
        ):
            assert title in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"new conv")
        results = app.screen.query_one(OptionList)
        await until(
            pilot,
            lambda: (
                results.highlighted is not None
                and "New conversation"
                in str(results.get_option_at_index(results.highlighted).prompt)
            ),
        )
        await pilot.press("enter")
        await until(pilot, lambda: app.conversation_id == "c2")


# -- following the log: changes made elsewhere show up --------------------------------------------


@asynchronous
async def test_an_agents_reply_and_a_hand_back_made_elsewhere_show_up():
    backend = FakeBackend()
    app = ChatApp(backend)
    async with run_chat(app, size=SIZE) as pilot:
        await pilot.press("f2")
        await until(pilot, lambda: app.status == "human")
        backend.agent_reply("c1", "Hi, Ana here. How can I help?")  # another process
        await until(pilot, lambda: messages(app, AgentMessage))
        (agent,) = messages(app, AgentMessage)
        assert shown(agent) == "Hi, Ana here. How can I help?" and agent.border_title == "Agent"
        backend.hand_back("c1")
        await until(pilot, lambda: app.status == "bot")
        assert "handed you back to the assistant" in shown(app.query(NoteMessage).last())
        assert prompt(app).placeholder == "Type your message and press Enter"
        await send(pilot, "thanks, one more question")
        await settle(pilot)
        assert "(re: thanks, one more question)" in body(messages(app, AssistantMessage)[-1])
        assert len(messages(app, AgentMessage)) == 1  # shown once, not again on later syncs


@asynchronous
async def test_a_conversation_closed_elsewhere_becomes_read_only():
    backend = FakeBackend()
    app = ChatApp(backend)
    async with run_chat(app, size=SIZE) as pilot:
        await send(pilot, "hello")
        await settle(pilot)
        backend.close_conversation("c1")
        await until(pilot, lambda: prompt(app).disabled)
        assert "was closed" in shown(app.query(NoteMessage).last())


@asynchronous
async def test_changes_to_another_conversation_are_not_shown():
    backend = FakeBackend()
    app = ChatApp(backend)
    async with run_chat(app, size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await until(pilot, lambda: app.conversation_id == "c2")
        backend.agent_reply("c1", "for the first conversation")
        backend.agent_reply("c2", "for this one")
        await until(pilot, lambda: messages(app, AgentMessage))
        assert [shown(m) for m in messages(app, AgentMessage)] == ["for this one"]


@pytest.fixture
def real_log(tmp_path):
    """A real service (scripted engine, log file) and a second connection to the same file."""
    service = AssistantService(ScriptedEngine(), ConversationLog(tmp_path / "chat.db"))
    with ConversationLog(tmp_path / "chat.db") as agents:
        yield service, agents
    service.close()


def test_the_open_chat_follows_writes_from_another_connection(real_log):
    service, agents = real_log

    async def drive() -> None:
        app = ChatApp(service)
        async with run_chat(app, size=SIZE) as pilot:
            await send(pilot, "I need a human please")
            await until(pilot, lambda: app.status == "human")  # read back from the log
            handoff = messages(app, AssistantMessage)[-1]
            assert "ticket number is T-" in body(handoff)
            cid = app.conversation_id
            agents.add_turn(cid, "agent", "Hi, Ana here. Which order is it?")
            await until(pilot, lambda: messages(app, AgentMessage))
            assert shown(messages(app, AgentMessage)[0]) == "Hi, Ana here. Which order is it?"
            await send(pilot, "NH-48213")  # goes to the agent: the bot stays quiet
            await settle(pilot)
            assert "human agent will reply" in shown(app.query(NoteMessage).last())
            agents.hand_back(cid)
            await until(pilot, lambda: app.status == "bot")
            assert "handed you back" in shown(app.query(NoteMessage).last())
            await send(pilot, "thanks, what about NH-48213?")
            await settle(pilot)
            assert "I found NH-48213" in body(messages(app, AssistantMessage)[-1])

    asyncio.run(drive())
    roles = [t.role for t in agents.transcript(agents.conversations()[0].id)]
    assert roles == ["customer", "assistant", "agent", "customer", "customer", "assistant"]


def test_nothing_on_the_ui_thread_waits_for_a_locked_log(real_log, tmp_path):
    service, _ = real_log

    async def drive() -> None:
        app = ChatApp(service)
        async with run_chat(app, size=SIZE) as pilot:
            await send(pilot, "hello")
            await settle(pilot)
            first = app.conversation_id
            other = sqlite3.connect(tmp_path / "chat.db", isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            try:
                await pilot.press("ctrl+g")  # a rating: queued
                await pilot.press("ctrl+o")  # the browser: read in a worker, after the rating
                await pilot.press("ctrl+n")  # a new conversation: stored with its first message
                await pilot.press(*"still typing")
                assert prompt(app).value == "still typing"  # the keys were handled meanwhile
                assert app.conversation_id != first  # a new one is on screen
            finally:
                other.execute("COMMIT")
                other.close()
            await until(pilot, lambda: isinstance(app.screen, BrowseScreen))
            assert app.screen.query_one(DataTable).row_count == 1  # the empty one is not stored

    asyncio.run(drive())
    assert service.log.db.execute("SELECT rating FROM feedback").fetchone()[0] == 1


# -- snapshots ---------------------------------------------------------------------------------
# The input's cursor blinks on a timer: hold it steady so the screenshots are deterministic.


async def steady_cursor(pilot) -> None:
    pilot.app.query_one("#prompt", Input).cursor_blink = False
    await pilot.pause()


def test_snapshot_initial_screen(snap_compare):
    assert snap_compare(ChatApp(FakeBackend()), terminal_size=SIZE, run_before=steady_cursor)


def test_snapshot_after_one_exchange(snap_compare):
    async def exchange(pilot) -> None:
        await steady_cursor(pilot)
        await send(pilot, "how long do refunds take")
        await settle(pilot)

    assert snap_compare(ChatApp(FakeBackend()), terminal_size=SIZE, run_before=exchange)


def test_snapshot_help_screen(snap_compare):
    assert snap_compare(
        ChatApp(FakeBackend()), terminal_size=SIZE, run_before=steady_cursor, press=["f1"]
    )


def test_the_why_panel_lists_only_replies_the_bot_may_send():
    decision = Decision(
        "Hi!",
        "ranker",
        "best reply scores 0.90 >= 0.55",
        candidates=[
            Candidate("Happy to help with that.", 0.9),
            Candidate(
                "I've refunded order [order number].", 0.8, sendable=False, kind="agent_only"
            ),
        ],
    )
    shown = InsightPanel._alternatives(Reply.delivered(decision, "c1", "t1"))
    assert "Happy to help" in shown.plain
    assert "refunded" not in shown.plain
    only_agent = Decision("Hi!", "ranker", "r", candidates=[decision.candidates[1]])
    assert InsightPanel._alternatives(Reply.delivered(only_agent, "c1", "t1")) is None
