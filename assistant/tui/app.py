"""The terminal chat: a customer talks to the assistant, an agent can watch why it answered.

Layout: the transcript and the input on the left, an insight panel on the right (predicted
intent, knowledge-base sources, ranked alternatives, policy reason, latency), keys in the footer.

The backend runs the models and reads the database, so nothing on the UI thread waits for it:
`respond` and `request_human` run one at a time in thread workers, fed from a queue, so the
input stays responsive and messages typed while the assistant is thinking are answered in order;
the conversation browser reads in a thread worker too. Only `new_conversation` and `rate` run on
the UI thread: they queue a write and return.

What the chat shows of a conversation's state comes from the log, wherever it was changed: a
thread worker waits for any change (`Backend.wait_for_change`, another process included), reads
the open conversation's status and new turns (`Backend.conversation`) and posts them to the UI.
So an agent's reply appears, a hand-back is announced and the input says who has the
conversation, within a second.

A backend may also have `wait_ready()`: the chat then opens at once while it loads its models
(see `open_service(background=True)`), and says so until they are ready; and `listen(callback)`:
the chat then shows what the backend must tell the user (the log is busy, an exchange was
spooled, a rating was not saved, another model version answers from now on) as a
notification, and keeps it in `notices`. Every failure the chat shows is counted in
`failures`, so `assistant chat` can exit non-zero.

`assistant chat` runs it over the real backend; `tests/test_tui.py` has an in-memory fake.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.signal import Signal
from textual.widgets import DataTable, Footer, Header, Input, Markdown, Static
from textual.worker import get_current_worker

from assistant.limits import is_blank
from assistant.reply import Citation, ConversationSummary, ConversationView, Reply
from assistant.tui.safe import SHOWN_CHARS, SafeApp, SafeInput, cell, key_table, plain
from assistant.untrusted import clean, clip, inert, one_line


class Backend(Protocol):
    """What the chat needs from the dialogue engine and the conversation log.

    `assistant.service.AssistantService` implements it; the tests use an in-memory fake.
    """

    info: dict[str, str]  # model and KB names/paths, db path: shown on the help screen

    def new_conversation(self) -> str:
        """Start a conversation and return its id."""
        ...

    def respond(self, conversation_id: str, text: str) -> Reply:
        """Answer one customer message (blocking: runs the models)."""
        ...

    def rate(self, turn_id: str, good: bool) -> None:
        """Record feedback on an assistant turn."""
        ...

    def request_human(self, conversation_id: str) -> Reply:
        """Hand the conversation to a human; the reply has source "handoff" and a ticket id."""
        ...

    def conversations(self, limit: int = 50) -> list[ConversationSummary]:
        """The most recent conversations, newest first (blocking: reads the log)."""
        ...

    def conversation(self, conversation_id: str, after_seq: int = 0) -> ConversationView:
        """The conversation's status and its stored turns after `after_seq` (blocking)."""
        ...

    def wait_for_change(self, after: int, timeout: float) -> int:
        """Block until the log changed since change count `after` (0 at first) or `timeout`.

        Returns the change count to pass back next time.
        """
        ...

    def close(self) -> None:
        """Release models and the database."""
        ...


# -- formatting helpers ------------------------------------------------------------------------


def reply_caption(
    source: str | None, citations: Sequence[Citation] = (), ticket_id: str | None = None
) -> str:
    """The small line under an assistant message that says where the reply came from.

    >>> reply_caption("handoff", ticket_id="T-12345")
    'handed to a human · ticket T-12345'
    """
    if source == "kb":
        if citations:
            return f"from the knowledge base · {citations[0].heading}"
        return "from the knowledge base"
    if source == "handoff":
        return f"handed to a human · ticket {ticket_id}" if ticket_id else "handed to a human"
    captions = {
        "ranker": "suggested reply",
        "clarify": "asking you to clarify",
        "fallback": "asking you to rephrase",
        "oos": "outside what I can help with",
        "muted": "bot paused · a human agent will reply",
    }
    return captions.get(source or "", source or "")


def bar(fraction: float, width: int = 10) -> str:
    """A text bar for a probability: `bar(0.5, 4) == "██░░"`."""
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)


def shorten(text: str, limit: int) -> str:
    """`text` on one line and inert (no control characters), cut to `limit` with an ellipsis."""
    return one_line(text, limit)


def short_time(iso: str) -> str:
    """An ISO-8601 UTC time to the minute: "2024-05-01T12:00:00Z" -> "2024-05-01 12:00"."""
    return iso.replace("T", " ")[:16]


def key_label(keys: str) -> str:
    """A binding's keys as the help screen shows them: "f2,ctrl+h" -> "F2 / ctrl+h"."""
    names = {"question_mark": "?", "enter": "Enter", "escape": "Esc"}
    out = []
    for key in keys.split(","):
        key = names.get(key, key)
        out.append(key.upper() if key[0] == "f" and key[1:].isdigit() else key)
    return " / ".join(out)


# -- transcript messages -----------------------------------------------------------------------
#
# Every text below may come from a customer, an agent or the log: it is handed to widgets as
# `plain` content (inert, never markup), so "[bold]" shows as typed and escape codes as "␛".


class CustomerMessage(Static):
    """A message the customer typed (shown as typed, never as markup)."""

    def __init__(self, text: str) -> None:
        super().__init__(plain(text), markup=False, classes="message customer")
        self.border_title = "You"


class AgentMessage(Static):
    """A message a human agent wrote (read from the log), titled with the agent's name."""

    def __init__(self, text: str, agent: str | None = None) -> None:
        super().__init__(plain(text), markup=False, classes="message agent")
        # The name is stored text too: one inert line, and the title is plain Content.
        name = one_line(agent or "", 40)
        self.border_title = plain(f"Agent · {name}" if name else "Agent", multiline=False)


class NoteMessage(Static):
    """A line from the app itself: a welcome, a conversation loaded, a handoff request."""

    def __init__(self, text: str) -> None:
        super().__init__(plain(text), markup=False, classes="note")


class ErrorMessage(Static):
    """The backend failed; the app keeps going."""

    def __init__(self, text: str) -> None:
        super().__init__(plain(text), markup=False, classes="message error")
        self.border_title = "Error"


class AssistantMessage(Vertical):
    """An assistant reply: Markdown body, a caption saying where it came from, its citations."""

    def __init__(
        self,
        text: str,
        caption: str,
        citations: Sequence[Citation] = (),
        *,
        source: str | None = None,
        rating: int | None = None,
    ) -> None:
        super().__init__(classes="message assistant")
        if source == "handoff":
            self.add_class("handoff")
        self.border_title = "Assistant"
        # Markdown is the bot's format; what the text holds besides Markdown stays inert.
        self._text = inert(clip(text, SHOWN_CHARS)).strip() or "*(no reply)*"
        self._caption = caption
        self._citations = list(citations)
        self._rating = rating

    def compose(self) -> ComposeResult:
        yield Markdown(self._text, classes="body")
        yield Static(self._caption_text(), classes="caption")
        seen: set[str] = set()
        for citation in self._citations:
            label = citation.heading
            if label in seen:
                continue
            seen.add(label)
            # The caption already names the first article: its line only adds the path.
            line = citation.source if label in self._caption else f"{label} · {citation.source}"
            yield Static(plain(f"↳ {line}", multiline=False), classes="citation")

    def _caption_text(self) -> Content:
        if self._rating is None:
            return plain(self._caption, multiline=False)
        rated = " · rated good" if self._rating > 0 else " · rated bad"
        return plain(self._caption + rated, multiline=False)

    def set_rating(self, good: bool) -> None:
        """Show the customer's rating in the caption."""
        self._rating = 1 if good else -1
        self.query_one(".caption", Static).update(self._caption_text())


# -- side panel --------------------------------------------------------------------------------


PANEL_CHARS = 300  # the most characters of one stored value the side panel shows


class InsightPanel(VerticalScroll):
    """Why the assistant answered what it did: intent, sources, alternatives, policy, latency."""

    SECTIONS = (
        ("intent", "Intent"),
        ("sources", "Sources"),
        ("alternatives", "Alternatives"),
        ("policy", "Policy"),
        ("latency", "Latency"),
    )

    def compose(self) -> ComposeResult:
        for section_id, title in self.SECTIONS:
            section = Static("", id=section_id, classes="section")
            section.border_title = title
            yield section

    def on_mount(self) -> None:
        self.show(None)

    def show(self, reply: Reply | None) -> None:
        """Fill the panel from `reply`, or with placeholders when there is none."""
        none = Content.styled("—", "$text-muted")
        if reply is None:
            for section_id, _ in self.SECTIONS:
                self.query_one(f"#{section_id}", Static).update(none)
            return
        self.query_one("#intent", Static).update(self._intent(reply) or none)
        self.query_one("#sources", Static).update(self._sources(reply) or none)
        self.query_one("#alternatives", Static).update(self._alternatives(reply) or none)
        policy = Content.assemble(
            (one_line(reply.source, 40), "bold"), "\n", inert(clip(reply.reason, PANEL_CHARS))
        )
        self.query_one("#policy", Static).update(policy)
        self.query_one("#latency", Static).update(f"{reply.latency_ms:.0f} ms")

    @staticmethod
    def _intent(reply: Reply) -> Content | None:
        top = list(reply.top_intents) or (
            [(reply.intent, reply.confidence)] if reply.intent else []
        )
        if not top:
            return None
        lines = []
        for rank, (label, prob) in enumerate(top[:3]):
            style = "bold" if rank == 0 else ""
            lines.append(
                Content.assemble(
                    (f"{shorten(label, 16):<16} ", style),
                    (bar(prob), "$accent" if rank == 0 else "$text-muted"),
                    f" {prob:4.0%}",
                )
            )
        return Content("\n").join(lines)

    @staticmethod
    def _sources(reply: Reply) -> Content | None:
        if not reply.citations:
            return None
        lines = [
            Content.assemble(
                (one_line(c.heading, PANEL_CHARS), "bold"),
                "\n",
                (f"{one_line(c.source, PANEL_CHARS)} · {c.score:.2f}", "$text-muted"),
            )
            for c in reply.citations
        ]
        return Content("\n").join(lines)

    @staticmethod
    def _alternatives(reply: Reply) -> Content | None:
        # Only replies the bot may send: agent-only entries ("I've refunded order ...") and
        # replies with unfilled slots are suggestions for agents, never shown to a customer.
        sendable = [c for c in reply.candidates if getattr(c, "sendable", True)]
        if not sendable:
            return None
        lines = [
            Content.assemble((f"{c.score:.2f} ", "bold"), shorten(c.text, 70)) for c in sendable
        ]
        return Content("\n").join(lines)


# -- modal screens -----------------------------------------------------------------------------


class HelpScreen(ModalScreen[None]):
    """Every key the chat understands, and what the backend has loaded."""

    BINDINGS = [Binding("escape,f1,question_mark,q", "dismiss", "Close")]

    def __init__(self, keys: Iterable[tuple[str, str]], info: dict[str, str]) -> None:
        super().__init__()
        self._keys = list(keys)
        self._info = dict(info)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield Static("Keys", classes="dialog-title")
            yield Static(key_table(self._keys, "bold $accent"), id="help-keys")
            if self._info:
                yield Static("Loaded", classes="dialog-title")
                yield Static(key_table(self._info.items(), "bold"), id="help-info")
            yield Static("Esc to close", classes="dialog-hint")


class BrowseScreen(ModalScreen[ConversationSummary | None]):
    """Past conversations, newest first; Enter opens one."""

    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def __init__(self, summaries: Sequence[ConversationSummary]) -> None:
        super().__init__()
        self._summaries = {s.id: s for s in summaries}

    def compose(self) -> ComposeResult:
        with Vertical(id="browse-dialog", classes="dialog"):
            yield Static("Past conversations", classes="dialog-title")
            if self._summaries:
                yield DataTable(id="conversations", cursor_type="row", zebra_stripes=True)
            else:
                yield Static("No conversations yet.", classes="empty")
            yield Static("Enter open · Esc close", classes="dialog-hint")

    def on_mount(self) -> None:
        if not self._summaries:
            return
        table = self.query_one(DataTable)
        table.add_columns("Started", "Turns", "Status", "First message", "Id")
        for s in self._summaries.values():
            # Every cell is a Text: DataTable parses a str cell as markup ("[/]" would raise).
            table.add_row(
                cell(short_time(s.started)),
                cell(str(s.n_turns)),
                cell(s.status),
                cell(shorten(s.preview, 40)),
                cell(s.id if len(s.id) <= 12 else s.id[:8] + "…"),  # uuids: the prefix is enough
                key=s.id,
            )
        table.focus()

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        self.dismiss(self._summaries[str(event.row_key.value)])


# -- the app -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    """One blocking backend call waiting its turn."""

    kind: str  # "respond" | "human"
    conversation_id: str
    text: str = ""  # the customer message ("respond" only)


WATCH_TIMEOUT_S = 0.25  # the log watcher re-checks for cancellation (quitting) this often

WELCOME = (
    "Hi! Ask me about your order, billing or account. "
    "Press F2 at any time to talk to a person, F1 for help."
)


class ChatApp(SafeApp[None]):
    """`assistant chat`: the customer-service chat over a `Backend`.

    A crash ends it with `return_code` 1 and a report without customer text (`SafeApp`).
    """

    CSS_PATH = "app.tcss"
    TITLE = "Customer assistant"
    CRASH_NAME = "The chat"

    BINDINGS = [
        Binding("ctrl+g", "rate(True)", "Good", tooltip="Rate the last reply as helpful"),
        Binding("ctrl+b", "rate(False)", "Bad", tooltip="Rate the last reply as not helpful"),
        Binding("f2,ctrl+h", "human", "Human", tooltip="Hand the conversation to a person"),
        Binding("ctrl+n", "new_conversation", "New", tooltip="Start a new conversation"),
        Binding("ctrl+o", "browse", "Conversations", tooltip="Browse past conversations"),
        Binding("f1,question_mark", "help", "Help", tooltip="Show every key"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    # Actions that need the chat screen in front (not a dialog).
    CHAT_ACTIONS = frozenset({"rate", "human", "new_conversation", "browse", "help"})

    class Loaded(Message):
        """A conversation chosen in the browser, read from the log."""

        def __init__(self, summary: ConversationSummary, view: ConversationView) -> None:
            super().__init__()
            self.summary = summary
            self.view = view

    class Listed(Message):
        """The conversation browser's rows, read from the log."""

        def __init__(self, summaries: list[ConversationSummary]) -> None:
            super().__init__()
            self.summaries = summaries

    class Synced(Message):
        """What the log has now for the open conversation (posted by the log watcher)."""

        def __init__(self, view: ConversationView) -> None:
            super().__init__()
            self.view = view

    class ReadFailed(Message):
        """A read of the log in a worker failed; `text` says what could not be done."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Notice(Message):
        """Something the backend must tell the user (posted from any thread)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    conversation_id: reactive[str] = reactive("")
    busy: reactive[bool] = reactive(False)  # a respond/request_human call is running
    # The open conversation's status as the log last said: "bot", "human" (a person has it,
    # the bot stays quiet) or "closed" (read-only).
    status: reactive[str] = reactive("bot")

    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self.backend = backend
        # Published after the screen caught up with the log (a conversation loaded or synced).
        self.log_synced: Signal[ConversationView] = Signal(self, "log-synced")
        self._pending: deque[_Job] = deque()  # typed while another call was running
        self._in_flight: _Job | None = None  # the call in the worker thread now
        self._last_turn_id: str | None = None  # the assistant turn that ctrl+g / ctrl+b rate
        self._last_message: AssistantMessage | None = None
        self._seen_seq = 0  # the newest stored turn of the open conversation the screen reflects
        self._opening: str | None = None  # the conversation being read for the browser
        # What the log watcher re-reads: (conversation id, seq seen). Replaced, never mutated,
        # on the UI thread; the watcher thread only reads it.
        self._follow: tuple[str, int] = ("", 0)
        # A backend with `wait_ready` may still be loading its models when the chat opens.
        self._loading = callable(getattr(backend, "wait_ready", None))
        self.notices: list[str] = []  # what the backend told the user, oldest first
        self.failures = 0  # failures shown on screen (the command's exit status counts them)
        self.last_failure = ""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="chat"):
                yield VerticalScroll(id="transcript")
                yield Static("", id="thinking")
                yield SafeInput(placeholder="Type your message and press Enter", id="prompt")
            yield InsightPanel(id="insight")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#transcript", VerticalScroll).anchor()
        listen = getattr(self.backend, "listen", None)
        if callable(listen):  # post_message: the backend calls from any thread
            listen(lambda text: self.post_message(self.Notice(text)))
        self._start_conversation()
        self.query_one("#prompt", Input).focus()
        if self._loading:
            self._wait_for_models()
        self._watch_log()

    @work(thread=True, group="load", exit_on_error=False)
    def _wait_for_models(self) -> None:
        try:
            self.backend.wait_ready()
        except Exception as exc:  # shown in the chat; replies will fail with the same error
            self.call_from_thread(self._models_loaded, exc)
        else:
            self.call_from_thread(self._models_loaded, None)

    def _models_loaded(self, error: Exception | None) -> None:
        self._loading = False
        if error is not None:
            self._failed(f"Could not load the assistant's models: {error}")
            self._add(ErrorMessage(f"Could not load the assistant's models: {error}"))
        self._update_thinking()

    # -- reactive state ------------------------------------------------------------------------

    def watch_conversation_id(self, conversation_id: str) -> None:
        shown = one_line(conversation_id, 60)
        self.sub_title = f"conversation {shown}" if conversation_id else ""

    def watch_busy(self) -> None:
        self._update_thinking()

    def watch_status(self, status: str) -> None:
        prompt = self.query_one("#prompt", Input)
        prompt.disabled = status == "closed"
        if status == "closed":
            prompt.placeholder = "This conversation is closed (read-only) · ctrl+n starts a new one"
        elif status == "human":
            prompt.placeholder = "A human agent has this conversation · your messages reach them"
        else:
            prompt.placeholder = "Type your message and press Enter"

    # -- the conversation ----------------------------------------------------------------------

    @property
    def transcript(self) -> VerticalScroll:
        """The scrolling list of messages."""
        return self.query_one("#transcript", VerticalScroll)

    def _add(self, *messages: Static | Vertical) -> None:
        self.transcript.mount_all(messages)

    def _reset(self) -> None:
        """Empty the transcript and the insight panel."""
        self.transcript.remove_children()
        self.query_one(InsightPanel).show(None)
        self._last_turn_id = None
        self._last_message = None

    def _start_conversation(self) -> None:
        try:
            conversation_id = self.backend.new_conversation()
        except Exception as exc:  # the UI survives any backend failure
            self._failed(f"Could not start a conversation: {exc}")
            self._add(ErrorMessage(f"Could not start a conversation: {exc}"))
            return
        self._reset()
        self._opening = None
        self.status = "bot"
        self.conversation_id = conversation_id
        self._seen(0)
        self._add(NoteMessage(WELCOME))
        self._update_thinking()

    def _seen(self, seq: int) -> None:
        """The screen reflects the open conversation's stored turns up to `seq`."""
        self._seen_seq = seq
        self._follow = (self.conversation_id, seq)

    @on(Input.Submitted, "#prompt")
    def _send(self, event: Input.Submitted) -> None:
        text = clean(event.value).strip()
        if not text or self.status == "closed":
            return
        if is_blank(text):  # zero-width or format characters only: nothing to answer or log
            self.notify("That message has nothing visible in it: it was not sent.", markup=False)
            return
        if not self.conversation_id:
            self._start_conversation()
            if not self.conversation_id:
                return  # the error is on screen; the text stays in the input
        event.input.clear()
        self._add(CustomerMessage(text))
        self._enqueue(_Job("respond", self.conversation_id, text))

    def _enqueue(self, job: _Job) -> None:
        self._pending.append(job)
        self._pump()

    def _pump(self) -> None:
        """Start the next queued backend call unless one is running."""
        if not self.busy and self._pending:
            self._in_flight = self._pending.popleft()
            self.busy = True
            self._call_backend(self._in_flight)
        self._update_thinking()

    def _update_thinking(self) -> None:
        """Show "thinking…" while calls for the conversation on screen are running or queued."""
        jobs = [self._in_flight, *self._pending] if self._in_flight else list(self._pending)
        mine = sum(job.conversation_id == self.conversation_id for job in jobs)
        thinking = self.query_one("#thinking", Static)
        thinking.display = mine > 0 or self._loading
        if self._loading:
            waiting = " — your message will be answered in a moment" if mine else ""
            thinking.update(f"Loading the assistant's models…{waiting}")
            return
        queued = f" ({mine - 1} more queued)" if mine > 1 else ""
        thinking.update(f"Assistant is thinking…{queued}")

    @work(thread=True, exclusive=False, group="backend", exit_on_error=False)
    def _call_backend(self, job: _Job) -> None:
        """Run one blocking backend call off the UI thread and post the result back."""
        try:
            if job.kind == "human":
                reply = self.backend.request_human(job.conversation_id)
            else:
                reply = self.backend.respond(job.conversation_id, job.text)
        except Exception as exc:
            self.call_from_thread(self._job_failed, job, exc)
        else:
            self.call_from_thread(self._job_done, job, reply)

    def _job_done(self, job: _Job, reply: Reply) -> None:
        self._in_flight = None
        self.busy = False
        # A reply for a conversation no longer on screen is in the log; don't show it here.
        if job.conversation_id == self.conversation_id:
            self._show_reply(reply)
            if reply.source == "handoff":  # the status follows from the log (the watcher)
                ticket = f" · ticket {reply.ticket_id}" if reply.ticket_id else ""
                self.notify(
                    inert(f"Handed to a human{ticket}"), title="Talk to a human", markup=False
                )
        self._pump()

    def _job_failed(self, job: _Job, exc: Exception) -> None:
        self._in_flight = None
        self.busy = False
        self._failed(str(exc))
        if job.conversation_id == self.conversation_id:
            if job.kind == "human":
                self._add(ErrorMessage(f"Could not reach a human agent: {exc}. Try F2 again."))
            else:
                prompt = self.query_one("#prompt", Input)
                if not prompt.value and not prompt.disabled:
                    prompt.value = job.text
                    prompt.cursor_position = len(job.text)
                    kept = "It is back in the input box: press Enter to send it again."
                else:
                    kept = f"Your message was: {job.text}"
                self._add(ErrorMessage(f"Sorry, I could not answer that ({exc}). {kept}"))
        self._pump()

    def _show_reply(self, reply: Reply) -> None:
        self.query_one(InsightPanel).show(reply)
        if reply.source == "muted" and not reply.reply.strip():
            # Handed off: the bot stays quiet and the message waits for the agent.
            self._add(NoteMessage("A human agent will reply here; the assistant is paused."))
            return
        message = AssistantMessage(
            reply.reply,
            reply_caption(reply.source, reply.citations, reply.ticket_id),
            reply.citations,
            source=reply.source,
        )
        self._add(message)
        if reply.turn_id:  # "" when nothing was logged (e.g. "already handed off")
            self._last_turn_id = reply.turn_id
            self._last_message = message

    def _show_transcript(self, summary: ConversationSummary, view: ConversationView) -> None:
        self._reset()
        self.conversation_id = view.id
        self.status = view.status or summary.status
        state = {"closed": " · closed (read-only)", "human": " · with a human agent"}
        self._add(
            NoteMessage(
                f"Conversation {view.id} · started {short_time(summary.started)}"
                + state.get(self.status, "")
            )
        )
        for turn in view.turns:
            if turn.role == "customer":
                self._add(CustomerMessage(turn.text))
            elif turn.role == "agent":
                self._add(AgentMessage(turn.text, turn.agent))
            else:
                message = AssistantMessage(
                    turn.text, reply_caption(turn.source), source=turn.source, rating=turn.rating
                )
                self._add(message)
                self._last_turn_id = turn.id
                self._last_message = message
        self._seen(view.turns[-1].seq if view.turns else 0)
        self._update_thinking()

    # -- following the log ---------------------------------------------------------------------

    @work(thread=True, group="watch", exit_on_error=False)
    def _watch_log(self) -> None:
        """Re-read the open conversation whenever the log changes, whoever changed it."""
        worker = get_current_worker()
        changes = 0
        last_error = ""
        while not worker.is_cancelled:
            try:
                now = self.backend.wait_for_change(changes, WATCH_TIMEOUT_S)
                if now == changes:
                    continue
                changes = now
                conversation_id, seen = self._follow
                if conversation_id:
                    view = self.backend.conversation(conversation_id, seen)
                    if not worker.is_cancelled:
                        self.post_message(self.Synced(view))
                last_error = ""
            except Exception as exc:  # shown once; the watcher keeps going
                if worker.is_cancelled:
                    return
                if str(exc) != last_error:
                    last_error = str(exc)
                    self.post_message(self.ReadFailed(f"Could not follow the log: {exc}"))
                time.sleep(WATCH_TIMEOUT_S)  # a log that keeps failing is not asked in a loop

    def on_chat_app_synced(self, message: Synced) -> None:
        """Show what the log has that the screen does not: agents' replies, the status."""
        view = message.view
        if view.id != self.conversation_id:  # the screen moved on to another conversation
            return
        for turn in view.turns:
            if turn.seq <= self._seen_seq:
                continue
            if turn.role == "agent":  # customer and bot turns of this chat are already shown
                self._add(AgentMessage(turn.text, turn.agent))
            self._seen(turn.seq)
        before = self.status
        if view.status is not None and view.status != before:
            self.status = view.status
            if before == "human" and view.status == "bot":
                self._add(
                    NoteMessage("An agent handed you back to the assistant: it answers again.")
                )
            elif view.status == "closed":
                self._add(NoteMessage("This conversation was closed · ctrl+n starts a new one."))
        self.log_synced.publish(view)

    def on_chat_app_read_failed(self, message: ReadFailed) -> None:
        self._failed(message.text)
        self.notify(inert(message.text), severity="error", markup=False)  # may quote stored text

    def on_chat_app_notice(self, message: Notice) -> None:
        """Show what the backend must tell the user; keep it for after the chat."""
        self.notices.append(message.text)
        self.notify(inert(message.text), severity="warning", markup=False, timeout=10)

    def _failed(self, text: str) -> None:
        """Count a failure shown on screen (`assistant chat` then exits non-zero)."""
        self.failures += 1
        self.last_failure = text

    # -- actions -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Chat keys do nothing while a dialog (help, browser, palette) is in front."""
        if action in self.CHAT_ACTIONS and isinstance(self.screen, ModalScreen):
            return False
        return True

    def action_rate(self, good: bool) -> None:
        """Record whether the last assistant reply helped."""
        if not self._last_turn_id:
            self.notify("There is no reply to rate yet.", severity="warning")
            return
        try:
            self.backend.rate(self._last_turn_id, good)
        except Exception as exc:
            self._failed(f"Could not save the rating: {exc}")
            self.notify(inert(f"Could not save the rating: {exc}"), severity="error", markup=False)
            return
        if self._last_message is not None and self._last_message.is_attached:
            self._last_message.set_rating(good)
        self.notify(
            "Thanks! Marked the last reply as helpful."
            if good
            else "Thanks, marked the last reply as not helpful."
        )

    def action_human(self) -> None:
        """Hand the conversation to a person (queued after messages still being answered)."""
        if self.status == "closed":
            self.notify("This conversation is closed: ctrl+n starts a new one.", severity="warning")
            return
        if not self.conversation_id:
            self.notify("Start a conversation first (ctrl+n).", severity="warning")
            return
        self._add(NoteMessage("You asked to talk to a person."))
        self._enqueue(_Job("human", self.conversation_id))

    def action_new_conversation(self) -> None:
        """Clear the screen and start a new conversation."""
        self._start_conversation()
        self.query_one("#prompt", Input).focus()

    def action_browse(self) -> None:
        """Open the list of past conversations (read off the UI thread)."""
        self._list_conversations()

    @work(thread=True, group="browse", exclusive=True, exit_on_error=False)
    def _list_conversations(self) -> None:
        try:
            summaries = self.backend.conversations()
        except Exception as exc:
            self.post_message(self.ReadFailed(f"Could not list conversations: {exc}"))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Listed(summaries))

    def on_chat_app_listed(self, message: Listed) -> None:
        if not isinstance(self.screen, ModalScreen):  # nothing else opened in the meantime
            self.push_screen(BrowseScreen(message.summaries), self._open_conversation)

    def _open_conversation(self, summary: ConversationSummary | None) -> None:
        if summary is not None:
            self._opening = summary.id
            self._load_conversation(summary)

    @work(thread=True, group="open", exclusive=True, exit_on_error=False)
    def _load_conversation(self, summary: ConversationSummary) -> None:
        try:
            view = self.backend.conversation(summary.id)
        except Exception as exc:
            self.post_message(self.ReadFailed(f"Could not load conversation {summary.id}: {exc}"))
            return
        self.post_message(self.Loaded(summary, view))

    def on_chat_app_loaded(self, message: Loaded) -> None:
        if self._opening != message.view.id:  # ctrl+n or another pick came first
            return
        self._opening = None
        self._show_transcript(message.summary, message.view)
        if self.status != "closed":
            self.query_one("#prompt", Input).focus()
        self.log_synced.publish(message.view)

    def action_help(self) -> None:
        """Show every key and what the backend has loaded."""
        keys = [(key_label(b.key), b.tooltip or b.description) for b in self.BINDINGS]
        keys[-1:-1] = [
            ("Enter", "Send the message"),
            ("ctrl+p", "Command palette: every action by name"),
        ]
        self.push_screen(HelpScreen(keys, getattr(self.backend, "info", {}) or {}))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The chat's actions in the command palette (ctrl+p), after Textual's own."""
        yield from super().get_system_commands(screen)
        yield SystemCommand("Rate last reply: good", "The reply helped (ctrl+g)", self._rate_good)
        yield SystemCommand(
            "Rate last reply: bad", "The reply did not help (ctrl+b)", self._rate_bad
        )
        yield SystemCommand(
            "Talk to a human", "Hand the conversation to a person (F2)", self.action_human
        )
        yield SystemCommand(
            "New conversation",
            "Clear the screen and start again (ctrl+n)",
            self.action_new_conversation,
        )
        yield SystemCommand(
            "Browse conversations", "Open a past conversation (ctrl+o)", self.action_browse
        )
        yield SystemCommand("Help", "Show every key (F1)", self.action_help)

    def _rate_good(self) -> None:
        self.action_rate(True)

    def _rate_bad(self) -> None:
        self.action_rate(False)
